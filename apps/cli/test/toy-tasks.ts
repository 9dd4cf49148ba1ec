/**
 * A task written outside the CLI, on the task protocol alone (core only): `toy/majority` labels a string
 * of 0s and 1s by which digit it has more of, with a one-layer transformer encoder. The CLI test loads
 * it with `--tasks-from`, so it proves that a task added anywhere can be listed, trained, evaluated, run
 * and looked into with no change to the CLI.
 */
import {
  argmax,
  mean,
  nn,
  noGrad,
  optim,
  type Task,
  type TaskContext,
  type Tensor,
  tasks,
  tidy,
} from '@multihead/core';

const ID = 'toy/majority';
const LENGTH = 7;
const LABELS = ['zeros', 'ones'] as const;
const CONFIG = { dModel: 16, nHead: 2, dimFeedforward: 32 };

class Majority extends nn.Module {
  readonly embed: nn.Embedding;
  readonly encoder: nn.TransformerEncoder;
  readonly head: nn.Linear;
  constructor(ctx: TaskContext, seed: number) {
    super(ctx.device);
    this.embed = this.registerModule('embed', new nn.Embedding(ctx.device, 2, CONFIG.dModel, { seed }));
    const layer = { ...CONFIG, dropout: 0, batchFirst: true, seed: seed + 1 };
    this.encoder = this.registerModule('encoder', new nn.TransformerEncoder(ctx.device, layer, 1));
    this.head = this.registerModule('head', new nn.Linear(ctx.device, CONFIG.dModel, 2, { seed: seed + 2 }));
  }
  /** ids [B, L] -> logits [B, 2] (mean over positions), and the layer's attention when asked. */
  forwardDetailed(ids: Tensor, weights: boolean): { logits: Tensor; attention: Tensor | null } {
    return tidy(() => {
      const { out, attentions } = this.encoder.forwardDetailed(this.embed.forward(ids), {
        attentionWeights: weights ? [0] : [],
      });
      return { logits: this.head.forward(mean(out, 1)), attention: attentions[0] ?? null };
    });
  }
}

/** Every string of LENGTH digits, as ids and labels; strings whose index is a multiple of 5 are held out. */
function data(split: 'train' | 'test') {
  const rows: number[][] = [];
  for (let n = 0; n < 2 ** LENGTH; n++) {
    if ((n % 5 === 0) === (split === 'test'))
      rows.push(Array.from({ length: LENGTH }, (_, i) => (n >> i) & 1));
  }
  return { rows, labels: rows.map((r) => (r.reduce((a, b) => a + b, 0) * 2 > LENGTH ? 1 : 0)) };
}

async function parse(input: unknown): Promise<number[]> {
  const text = (await tasks.inputText(input as string, ID)).trim();
  if (!new RegExp(`^[01]{${LENGTH}}$`).test(text)) {
    throw new Error(`${ID}: expected ${LENGTH} digits 0 or 1, got ${JSON.stringify(text)}`);
  }
  return [...text].map(Number);
}

async function load(ctx: TaskContext) {
  const loaded = await tasks.loadTaskCheckpoint(ctx, { id: ID });
  const model = new Majority(ctx, 0);
  model.loadStateDict(loaded.checkpoint.model);
  model.eval();
  return { model, loaded };
}

async function predict(model: Majority, rows: number[][]): Promise<Float32Array> {
  const logits = noGrad(() =>
    tidy(() =>
      argmax(
        model.forwardDetailed(model.device.tensor(Int32Array.from(rows.flat()), [rows.length, LENGTH]), false)
          .logits,
        -1,
      ),
    ),
  );
  const out = Float32Array.from(await logits.read());
  logits.dispose();
  return out;
}

export const toyTask: Task = tasks.defineTask({
  id: ID,
  kind: 'classify',
  description: 'toy: which digit a string of 0s and 1s has more of (a test task from outside the CLI)',
  input: { kind: 'text', description: `${LENGTH} digits 0 or 1`, example: '1011001' },
  output: { kind: 'label', labels: LABELS },
  metrics: [{ name: 'accuracy', description: 'share of held-out strings labelled right', better: 'higher' }],
  goal: { metric: 'accuracy', op: '>=', value: 0.9, beat: ['majorityClass'] },
  positions: 'tokens',
  async train(ctx, opts = {}) {
    const { steps, maxSeconds } = tasks.checkTrainOptions(ID, opts, 150);
    const model = new Majority(ctx, ctx.seed ?? 0);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 1e-2 });
    const { rows, labels } = data('train');
    try {
      const summary = await tasks.trainForTask(ctx, {
        optimizer,
        steps,
        maxSeconds,
        unit: 'strings',
        items: () => rows.length,
        batch: () => ({
          ids: ctx.device.tensor(Int32Array.from(rows.flat()), [rows.length, LENGTH]),
          y: ctx.device.tensor(Int32Array.from(labels), [rows.length]),
        }),
        loss: ({ ids, y }) => nn.crossEntropy(model.forwardDetailed(ids, false).logits, y),
      });
      const { location } = await tasks.saveTaskCheckpoint(ctx, ID, {
        model: model.stateDict(),
        step: summary.steps,
        config: CONFIG,
        preprocessing: { length: LENGTH },
      });
      return { task: ID, ...summary, checkpoint: location, unit: summary.unit };
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  },
  async evaluate(ctx) {
    const { model, loaded } = await load(ctx);
    try {
      const { rows, labels } = data('test');
      const predicted = await predict(model, rows);
      const accuracy = labels.filter((y, i) => predicted[i] === y).length / labels.length;
      const ones =
        data('train').labels.filter((y) => y === 1).length * 2 > data('train').labels.length ? 1 : 0;
      const majority = labels.filter((y) => y === ones).length / labels.length;
      return tasks.evalReport(toyTask, {
        metrics: { accuracy },
        baselines: { majorityClass: { accuracy: majority } },
        split: { name: 'held-out', description: 'every 5th string of 7 digits' },
        examples: rows.length,
        checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
        details: {},
      });
    } finally {
      model.dispose();
    }
  },
  run: (ctx, input) =>
    tasks.resultRun(async () => {
      const ids = await parse(input);
      const { model } = await load(ctx);
      try {
        const logits = noGrad(
          () => model.forwardDetailed(ctx.device.tensor(Int32Array.from(ids), [1, LENGTH]), false).logits,
        );
        const [a, b] = await logits.read();
        logits.dispose();
        const z = Math.max(a!, b!);
        const [pa, pb] = [Math.exp(a! - z), Math.exp(b! - z)];
        const scores = [
          { label: 'zeros', probability: pa / (pa + pb) },
          { label: 'ones', probability: pb / (pa + pb) },
        ];
        return { kind: 'label', label: pb > pa ? 'ones' : 'zeros', scores };
      } finally {
        model.dispose();
      }
    }),
  async attention(ctx, input) {
    const ids = await parse(input);
    const { model } = await load(ctx);
    try {
      const w = noGrad(
        () => model.forwardDetailed(ctx.device.tensor(Int32Array.from(ids), [1, LENGTH]), true).attention!,
      );
      const weights = (await w.read()) as Float32Array;
      w.dispose();
      return {
        positions: 'tokens',
        labels: ids.map(String),
        numLayers: 1,
        layers: [{ layer: 0, heads: 2, weights }],
        causal: false,
      };
    } finally {
      model.dispose();
    }
  },
});

export const TASKS = [toyTask];
