/** The `multihead` command. Each command takes --backend, --seed and --json (see common.ts). */
import { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from './common.js';
import { demo } from './demo.js';
import { info } from './info.js';

const program = new Command()
  .name('multihead')
  .description('Transformer attention on WebGPU and the CPU: inspect the runtime, benchmark, run the demo')
  .showHelpAfterError();

withCommonOptions(
  program.command('info').description('runtime, WebGPU adapter and limits, and the backend chosen'),
).action((o: CommonOptions) => info(o));

withCommonOptions(
  program.command('demo').description('train a small classifier with core ops, then time core ops'),
).action((o: CommonOptions) => demo(o));

withCommonOptions(
  program
    .command('bench <name>')
    .description('benchmark side by side with peers on the same device: matmul | softmax | attention | train')
    .option('--sizes <list>', 'comma-separated sizes', (v: string) => v.split(',').map(Number)),
).action(async (name: string, o: CommonOptions & { sizes?: number[] }) => {
  const { bench } = await import('./bench.js');
  await bench(name, o);
});

program.parseAsync().catch((error: unknown) => {
  const e = error as Error & { code?: string };
  process.stderr.write(`multihead: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`);
  process.exitCode = 1;
});
