/** The `multihead` command. Each command takes --backend, --seed and --json (see common.ts). */
import { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from './common.js';
import { type DemoOptions, demo } from './demo.js';
import { info } from './info.js';
import type { RunOptions, TaskOptions } from './tasks.js';

const program = new Command()
  .name('multihead')
  .description('Transformer attention on WebGPU and the CPU: inspect the runtime, benchmark, run the demo')
  .showHelpAfterError();

/** Flag values parsed as what they are: errors name the flag and what came (before anything runs). */
const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new Error(`${name}: got '${v}'; expected an integer`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${name}: got '${v}'; expected a number`);
  return n;
};

withCommonOptions(
  program.command('info').description('runtime, WebGPU adapter and limits, and the backend chosen'),
).action((o: CommonOptions) => info(o));

withCommonOptions(
  program
    .command('demo')
    .description(
      'train the names GPT for a fixed time, sample names, compare held-out NLL with a bigram, draw attention as a PNG',
    )
    .option('--max-seconds <s>', 'training time budget', num('--max-seconds'), 120)
    .option('--layer <n>', 'the layer whose heads the heatmap shows (default: the last)', int('--layer'))
    .option('--out <dir>', 'where the checkpoint and attention.png go (default: <repo>/.cache/demo)'),
).action((o: DemoOptions) => demo(o));

const collect = (v: string, previous: string[] = []) => [...previous, v];

/** Options every task command takes: where checkpoints are, and extra task modules. */
function withTaskOptions(cmd: Command): Command {
  return withCommonOptions(cmd)
    .option(
      '--checkpoints <dir>',
      'folder of trained checkpoints (default: <repo>/.cache/checkpoints, git-ignored)',
    )
    .option(
      '--checkpoint <file>',
      'a task checkpoint (.safetensors) to use instead of the trained or committed one',
    )
    .option(
      '--tasks-from <module>',
      'a module exporting TASKS (an array of tasks) to add; repeatable',
      collect,
    );
}

/** Options of a run: the input, parameters, where outputs and attention maps go. */
function withRunOptions(cmd: Command): Command {
  return withTaskOptions(cmd)
    .option('--param <name=value>', "a task parameter (see 'multihead tasks --json'); repeatable", collect)
    .option('--max-tokens <n>', 'generation: tokens to generate at most (the maxNewTokens parameter)')
    .option('--temperature <t>', 'generation: 0 = greedy; default 1')
    .option('--top-k <k>', 'generation: sample from the k most likely tokens')
    .option('--top-p <p>', 'generation: nucleus sampling, the smallest set with probability p')
    .option('--out <file>', 'where an image / audio / MIDI output goes (default: <task name>.<ext> here)')
    .option('--attention <png>', 'also draw the attention maps of the input as a PNG heatmap')
    .option('--layer <n>', 'the layer the attention PNG shows (default: the last)', int('--layer'));
}

withCommonOptions(
  program
    .command('tasks')
    .description('list every task of every modality: id, kind, input -> output, description')
    .option('--modality <name>', 'only this modality (text, vision, audio, graph)')
    .option('--tasks-from <module>', 'a module exporting TASKS to add; repeatable', collect),
).action(async (o: CommonOptions & { modality?: string; tasksFrom?: string[] }) =>
  (await import('./tasks.js')).listTasks(o),
);

withTaskOptions(
  program
    .command('train <task>')
    .description('train a task from scratch and save its checkpoint (a progress bar shows loss and items/s)')
    .option('--steps <n>', "optimizer steps (default: the task's own)", int('--steps'))
    .option(
      '--max-seconds <s>',
      'stop after this many seconds and save what was trained',
      num('--max-seconds'),
    ),
).action(async (id: string, o: TaskOptions & { steps?: number; maxSeconds?: number }) =>
  (await import('./tasks.js')).trainTask(id, o),
);

withTaskOptions(
  program
    .command('eval <task>')
    .description("evaluate a task's checkpoint on held-out data, beside baselines fitted in the same call")
    .option(
      '--limit <n>',
      'score at most n examples (a quick look; the default is the whole split)',
      int('--limit'),
    ),
).action(async (id: string, o: TaskOptions & { limit?: number }) =>
  (await import('./tasks.js')).evalTask(id, o),
);

withRunOptions(
  program
    .command('run <task>')
    .description('run a task on one input (its kind decides: text, or a file) and print or write its output')
    .option('--input <file|text>', "the task's input: a file, or text for text / sequence / graph tasks"),
).action(async (id: string, o: RunOptions) => (await import('./tasks.js')).runTask(id, o));

withRunOptions(
  program
    .command('generate <task>')
    .description('run a generate task: stream its output after a prompt (alias of run)')
    .option('--prompt <text>', 'the start of the output (the input)')
    .option('--input <file|text>', 'the same as --prompt'),
).action(async (id: string, o: RunOptions & { prompt?: string }) =>
  (await import('./tasks.js')).generateTask(id, o),
);

withRunOptions(
  program
    .command('classify <task>')
    .description('run a classify task on one input (alias of run)')
    .option('--text <text>', 'the text to classify (the input)')
    .option('--input <file|text>', 'the input: a file, or text'),
).action(async (id: string, o: RunOptions & { text?: string }) =>
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
