/**
 * The playground's build (docs/api.md, "playground"): relative URLs (the static build is hosted under
 * any path), COOP/COEP headers on the dev and preview servers (cross-origin isolation: wasm threads),
 * module workers (the engine loads each modality's chunk with a dynamic import), the service worker as
 * a second entry (`sw.js`), the task manifest as a virtual module, and a size report with a budget.
 */
import { defineConfig } from 'vite';
import { sizeBudget } from './plugins/budget.js';
import { ISOLATION_HEADERS } from './plugins/isolation.js';
import { offline, SERVICE_WORKER_ENTRY, SERVICE_WORKER_FILE } from './plugins/offline.js';
import { taskManifest } from './plugins/task-manifest.js';

const cache = new URL('./.cache/', import.meta.url);
const generated = new URL('generated/', cache);
/** The app shell (page, service worker, engine worker with core; no checkpoint, no modality): gzip KiB. */
export const SHELL_BUDGET_KIB = 250;
const budget = sizeBudget({
  shellGzipKiB: SHELL_BUDGET_KIB,
  datasetsDir: new URL('public/datasets/', cache),
});

export default defineConfig({
  base: './',
  publicDir: new URL('public/', cache).pathname,
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // the dev server scans the engine worker too, so the modality packages' dependencies are optimized up
  // front instead of on first use (which reloads the page)
  optimizeDeps: { entries: ['index.html', 'src/engine/worker.ts'] },
  // worker builds get their own plugins: the engine imports the manifest and the task modules too
  worker: { format: 'es', plugins: () => [taskManifest(generated), budget.workerPlugin()] },
  build: {
    target: 'es2022',
    // the engine worker's core chunk embeds the wasm kernels; the budget plugin reports sizes instead
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      input: {
        index: new URL('index.html', import.meta.url).pathname,
        sw: new URL(SERVICE_WORKER_ENTRY, import.meta.url).pathname,
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? SERVICE_WORKER_FILE : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [taskManifest(generated), offline(), budget.plugin],
});
