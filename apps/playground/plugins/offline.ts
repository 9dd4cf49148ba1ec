/**
 * Builds the service worker (src/offline/service-worker.ts, a second entry of the build, written as
 * `sw.js` beside index.html) and writes into it the list of files to precache and a version: every built
 * file except checkpoints (`*.safetensors`: large, fetched and cached when a task first needs one).
 * The worker bundles (the engine and its lazy modality chunks) are part of the build's output, so they
 * are precached too: a modality's code is there offline even if none of its tasks was opened.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plugin } from 'vite';

export const SERVICE_WORKER_ENTRY = 'src/offline/service-worker.ts';
export const SERVICE_WORKER_FILE = 'sw.js';

export function offline(): Plugin {
  return {
    name: 'multihead-offline',
    apply: 'build',
    // at writeBundle the bundle holds every file, index.html included (Vite's HTML plugin emits it late);
    // sw.js is written again with the list filled in
    async writeBundle(options, bundle) {
      const sw = bundle[SERVICE_WORKER_FILE];
      if (sw?.type !== 'chunk') this.error(`the service worker entry did not produce ${SERVICE_WORKER_FILE}`);
      const files = Object.keys(bundle)
        .filter(
          (name) => name !== SERVICE_WORKER_FILE && !name.endsWith('.safetensors') && !name.endsWith('.map'),
        )
        .sort();
      const hash = createHash('sha256');
      for (const name of files) {
        const file = bundle[name]!;
        hash.update(name).update(file.type === 'chunk' ? file.code : file.source);
      }
      const code = sw.code
        .replace(/(["'`])__MULTIHEAD_PRECACHE__\1/, JSON.stringify(JSON.stringify(files)))
        .replace('__MULTIHEAD_VERSION__', hash.digest('hex').slice(0, 16));
      if (code.includes('__MULTIHEAD_'))
        this.error('could not write the precache list into the service worker');
      await writeFile(join(options.dir!, SERVICE_WORKER_FILE), code);
    },
  };
}
