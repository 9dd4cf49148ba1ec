/**
 * Two virtual modules from what scripts/prepare.ts wrote:
 * - `virtual:multihead/tasks`: the task manifest (every task's declaration and the table it comes
 *   from), so the page lists tasks without loading any modality's code;
 * - `virtual:multihead/task-modules`: a loader per module named in `PLAYGROUND_TASK_MODULES`, each a
 *   dynamic import (a chunk of its own), beside src/modalities.ts's.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';

const TASKS = 'virtual:multihead/tasks';
const MODULES = 'virtual:multihead/task-modules';

export function taskManifest(dir: URL): Plugin {
  const read = async (
    ctx: { error(message: string): never; addWatchFile(path: string): void },
    file: string,
  ) => {
    const url = new URL(file, dir);
    ctx.addWatchFile(url.pathname);
    try {
      return await readFile(url, 'utf8');
    } catch {
      return ctx.error(
        `${url.pathname} is missing: run scripts/prepare.ts first (pnpm --filter @multihead/playground assets)`,
      );
    }
  };
  return {
    name: 'multihead-task-manifest',
    resolveId: (id) => (id === TASKS || id === MODULES ? `\0${id}` : null),
    async load(id) {
      if (id === `\0${TASKS}`) return `export default ${await read(this, 'tasks.json')};`;
      if (id !== `\0${MODULES}`) return null;
      const paths = JSON.parse(await read(this, 'task-modules.json')) as string[];
      const loaders = paths.map(
        (path) =>
          `  ${JSON.stringify(`module:${path}`)}: () => import(${JSON.stringify(path)}).then((m) => ({ tasks: m.TASKS ?? m.default })),`,
      );
      return `export default {\n${loaders.join('\n')}\n};`;
    },
  };
}
