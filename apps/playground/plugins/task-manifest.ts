/**
 * `virtual:multihead/tasks`: the task manifest scripts/prepare.ts writes (every task's declaration), as
 * a module the page imports, so listing tasks loads no modality code.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';

const ID = 'virtual:multihead/tasks';
const RESOLVED = `\0${ID}`;

export function taskManifest(file: URL): Plugin {
  return {
    name: 'multihead-task-manifest',
    resolveId: (id) => (id === ID ? RESOLVED : null),
    async load(id) {
      if (id !== RESOLVED) return null;
      this.addWatchFile(file.pathname);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        this.error(
          `${file.pathname} is missing: run scripts/prepare.ts first (pnpm --filter @multihead/playground assets)`,
        );
      }
      return `export default ${text};`;
    },
  };
}
