/** `multihead bench <name>`: runs a tools/bench benchmark with a progress bar and prints its rows. */
import { type CommonOptions, emitJson, progressBar, say } from './common.js';

const NAMES = [
  'matmul',
  'softmax',
  'attention',
  'train',
  'decode',
  'cpu',
  'vit',
  'logmel',
  'neighborhood',
  'profile',
] as const;

export async function bench(name: string, opts: CommonOptions & { sizes?: number[] }): Promise<void> {
  if (!(NAMES as readonly string[]).includes(name)) {
    throw new Error(`bench: unknown benchmark '${name}'; expected one of ${NAMES.join(', ')}`);
  }
  const { runBench } = await import('@multihead/bench');
  let bar: ReturnType<typeof progressBar> | null = null;
  const rows = await runBench(name as (typeof NAMES)[number], {
    ...(opts.sizes ? { sizes: opts.sizes } : {}),
    onProgress: (done: number, total: number) => {
      if (opts.json) return;
      bar ??= progressBar(`bench ${name}`, total);
      bar.tick(done > 0 ? 1 : 0);
    },
  });
  (bar as ReturnType<typeof progressBar> | null)?.stop();
  for (const row of rows) say(opts, JSON.stringify(row));
  if (opts.json) emitJson({ bench: name, rows });
}
