/** The `multihead` command. Each command takes --backend, --seed and --json (see common.ts). */
import { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from './common.js';
import { type DemoOptions, demo } from './demo.js';
import { info } from './info.js';
import type { TaskOptions } from './tasks.js';

const program = new Command()
  .name('multihead')
  .description('Transformer attention on WebGPU and the CPU: inspect the runtime, benchmark, run the demo')
  .showHelpAfterError();

withCommonOptions(
  program.command('info').description('runtime, WebGPU adapter and limits, and the backend chosen'),
).action((o: CommonOptions) => info(o));

withCommonOptions(
  program
    .command('demo')
    .description(
      'train the names GPT for a fixed time, sample names, compare held-out NLL with a bigram, draw attention as a PNG',
    )
    .option('--max-seconds <s>', 'training time budget', (v: string) => Number(v), 120)
    .option('--layer <n>', 'the layer whose heads the heatmap shows (default: the last)', (v: string) =>
      Number.parseInt(v, 10),
    )
    .option('--out <dir>', 'where the checkpoint and attention.png go (default: <repo>/.cache/demo)'),
).action((o: DemoOptions) => demo(o));

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name}: got '${v}'; expected an integer`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}: got '${v}'; expected a number`);
  return n;
};
const checkpointsOption = [
  '--checkpoints <dir>',
  'checkpoint folder (default: <repo>/.cache/checkpoints, git-ignored)',
] as const;

withCommonOptions(
  program
    .command('tasks')
    .description('list the tasks (id, kind, description) that train / eval / generate / classify run'),
).action(async (o: CommonOptions) => (await import('./tasks.js')).listTasks(o));

withCommonOptions(
  program
    .command('train <task>')
    .description('train a task from scratch and save its checkpoint (a progress bar shows loss and tokens/s)')
    .option('--steps <n>', "optimizer steps (default: the task's own)", int('--steps'))
    .option(
      '--max-seconds <s>',
      'stop after this many seconds and save what was trained',
      num('--max-seconds'),
    )
    .option(...checkpointsOption),
).action(async (id: string, o: TaskOptions & { steps?: number; maxSeconds?: number }) =>
  (await import('./tasks.js')).trainTask(id, o),
);

withCommonOptions(
  program
    .command('eval <task>')
    .description("evaluate a task's checkpoint on held-out data, beside its baseline")
    .option(...checkpointsOption),
).action(async (id: string, o: TaskOptions) => (await import('./tasks.js')).evalTask(id, o));

withCommonOptions(
  program
    .command('generate <task>')
    .description('stream text from a generate task after a prompt')
    .option('--prompt <text>', 'the start of the text', '')
    .option('--max-tokens <n>', "tokens to generate at most (default: the task's own)", int('--max-tokens'))
    .option('--temperature <t>', '0 = greedy; default 1', num('--temperature'))
    .option('--top-k <k>', 'sample from the k most likely tokens', int('--top-k'))
    .option('--top-p <p>', 'nucleus sampling: the smallest set with probability p', num('--top-p'))
    .option(...checkpointsOption),
).action(
  async (
    id: string,
    o: TaskOptions & {
      prompt: string;
      maxTokens?: number;
      temperature?: number;
      topK?: number;
      topP?: number;
    },
  ) => (await import('./tasks.js')).generateTask(id, o),
);

withCommonOptions(
  program
    .command('classify <task>')
    .description('label a text with a classify task')
    .requiredOption('--text <text>', 'the text to classify')
    .option(...checkpointsOption),
).action(async (id: string, o: TaskOptions & { text: string }) =>
  (await import('./tasks.js')).classifyTask(id, o),
);

withCommonOptions(
  program
    .command('bench <name>')
    .description(
      'benchmark side by side with peers on the same device: matmul | softmax | attention | train | decode | cpu',
    )
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
