/**
 * The build's size report and budget. It sorts every built file into what loads before a task is opened
 * (the app shell: the page's HTML, CSS and JavaScript, the service worker, the engine worker with core),
 * each modality's lazy chunk (loaded in the engine worker when one of its tasks opens), other lazy
 * chunks, checkpoints and prepared datasets (fetched when a task needs them); prints sizes raw and
 * gzipped; and fails the build when the app shell's gzipped size passes the budget.
 */
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { Logger, Plugin } from 'vite';

interface ChunkFacts {
  fileName: string;
  isEntry: boolean;
  isDynamicEntry: boolean;
  facade: string | null;
  imports: string[];
  bytes: Uint8Array;
}

interface Group {
  name: string;
  files: string[];
  raw: number;
  gzip: number;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const encoder = new TextEncoder();

/** Files reachable from `roots` through static imports. */
function closure(roots: string[], chunks: Map<string, ChunkFacts>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    stack.push(...(chunks.get(name)?.imports ?? []));
  }
  return seen;
}

/** The modality package a lazy chunk's facade belongs to: `.../packages/<name>/src/index.ts`. */
function packageOf(facade: string | null): string | null {
  const match =
    facade?.match(/packages\/([a-z0-9-]+)\/src\/index\.ts$/) ?? facade?.match(/@multihead\/([a-z0-9-]+)\//);
  return match?.[1] ?? null;
}

export function sizeBudget(opts: { shellGzipKiB: number; datasetsDir: URL }) {
  const workerChunks = new Map<string, ChunkFacts>();
  let logger: Logger | null = null;
  const record = (
    bundle: Record<string, { type: string; fileName: string } & Record<string, unknown>>,
    into: Map<string, ChunkFacts>,
  ) => {
    for (const file of Object.values(bundle)) {
      const chunk = file.type === 'chunk';
      into.set(file.fileName, {
        fileName: file.fileName,
        isEntry: chunk && (file['isEntry'] as boolean),
        isDynamicEntry: chunk && (file['isDynamicEntry'] as boolean),
        facade: chunk ? ((file['facadeModuleId'] as string | null) ?? null) : null,
        imports: chunk ? (file['imports'] as string[]) : [],
        bytes: chunk
          ? encoder.encode(file['code'] as string)
          : typeof file['source'] === 'string'
            ? encoder.encode(file['source'])
            : (file['source'] as Uint8Array),
      });
    }
  };

  /** For `worker.plugins`: records each worker bundle's chunks (their import graph is gone once emitted). */
  const workerPlugin = (): Plugin => ({
    name: 'multihead-size-budget-worker',
    generateBundle(_options, bundle) {
      record(bundle as never, workerChunks);
    },
  });

  const plugin: Plugin = {
    name: 'multihead-size-budget',
    apply: 'build',
    configResolved(config) {
      logger = config.logger;
    },
    // at writeBundle the bundle holds every file, index.html included (Vite's HTML plugin emits it late)
    async writeBundle(_options, bundle) {
      const main = new Map<string, ChunkFacts>();
      record(bundle as never, main);
      // the worker bundles reach this bundle as plain assets: their import graph comes from workerChunks
      const all = new Map<string, ChunkFacts>();
      for (const [name, facts] of main) {
        const fromWorker = workerChunks.get(name);
        all.set(name, fromWorker ? { ...fromWorker, bytes: facts.bytes } : facts);
      }
      const group = (name: string, files: Iterable<string>): Group => {
        const list = [...files].filter((f) => all.has(f)).sort();
        const bytes = list.map((f) => all.get(f)!.bytes);
        return {
          name,
          files: list,
          raw: bytes.reduce((s, b) => s + b.length, 0),
          gzip: bytes.reduce((s, b) => s + gzipSync(b, { level: 9 }).length, 0),
        };
      };
      const taken = new Set<string>();
      const take = (files: Iterable<string>) => [...files].filter((f) => !taken.has(f) && taken.add(f));
      const pageEntries = [...main.values()]
        .filter((c) => c.isEntry && !workerChunks.has(c.fileName))
        .map((c) => c.fileName);
      const engineEntries = [...workerChunks.values()].filter((c) => c.isEntry).map((c) => c.fileName);
      const css = [...main.keys()].filter((f) => f.endsWith('.css') || f.endsWith('.html'));
      const shell = group(
        'app shell (before a task opens)',
        take([...closure([...pageEntries, ...engineEntries], all), ...css]),
      );
      const modalities: Group[] = [];
      for (const chunk of workerChunks.values()) {
        const name = chunk.isDynamicEntry ? packageOf(chunk.facade) : null;
        if (name) modalities.push(group(`modality ${name} (lazy)`, take(closure([chunk.fileName], all))));
      }
      const checkpoints = group(
        'checkpoints (fetched when a task needs one)',
        take([...all.keys()].filter((f) => f.endsWith('.safetensors'))),
      );
      const rest = group(
        'other lazy chunks and assets',
        take([...all.keys()].filter((f) => !f.endsWith('.map'))),
      );
      const datasets: Group = { name: 'prepared datasets (public/datasets)', files: [], raw: 0, gzip: 0 };
      for (const file of await readdir(opts.datasetsDir).catch(() => [])) {
        const bytes = await readFile(new URL(file, opts.datasetsDir));
        datasets.files.push(`datasets/${file}`);
        datasets.raw += bytes.length;
        datasets.gzip += gzipSync(bytes, { level: 9 }).length;
      }
      const lines = ['', 'multihead playground: build size', ''];
      for (const g of [shell, ...modalities, rest, checkpoints, datasets]) {
        lines.push(`  ${g.name.padEnd(46)} ${kib(g.raw).padStart(11)}  gzip ${kib(g.gzip).padStart(11)}`);
        for (const f of g.files) {
          const bytes = all.get(f)?.bytes;
          if (bytes) lines.push(`      ${f.padEnd(52)} ${kib(bytes.length).padStart(11)}`);
        }
      }
      lines.push('', `  budget: app shell <= ${opts.shellGzipKiB} KiB gzip; now ${kib(shell.gzip)}`, '');
      (logger?.info ?? console.log)(lines.join('\n'));
      if (shell.gzip > opts.shellGzipKiB * 1024) {
        this.error(
          `the app shell is ${kib(shell.gzip)} gzip, over its budget of ${opts.shellGzipKiB} KiB (plugins/budget.ts)`,
        );
      }
    },
  };
  return { plugin, workerPlugin };
}
