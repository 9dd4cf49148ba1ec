/**
 * The pixel GPT of vision/pixels: training on token images (`[BOS, p0 .. p(N-1)]`, next-pixel targets),
 * summed NLL in bits, attention maps over a picture, and the sample grid its runs draw into.
 */
import {
  type AttentionReport,
  models,
  nn,
  noGrad,
  seededUniform,
  type TaskContext,
  tasks,
  tidy,
} from '@multihead/core';

export interface PixelPreprocessing {
  side: number;
  /** Gray levels in [0, 1], ascending; token v < palette.length is palette[v]. */
  palette: number[];
  /** The begin-of-image token (= palette.length). */
  bos: number;
}

/** The pixel GPT's optimizer and batch settings (its steps are the task's). */
export type PixelTraining = Omit<tasks.TaskTrainingHyper, 'steps' | 'betas'>;

/** Inputs `[B, N]` (BOS, then all pixels but the last) and targets `[B, N]` (every pixel). */
function packImages(ctx: TaskContext, tokens: Uint8Array, rows: readonly number[], pre: PixelPreprocessing) {
  const pixels = pre.side * pre.side;
  const inputs = new Int32Array(rows.length * pixels);
  const targets = new Int32Array(rows.length * pixels);
  rows.forEach((r, b) => {
    const image = tokens.subarray(r * pixels, (r + 1) * pixels);
    inputs[b * pixels] = pre.bos;
    inputs.set(image.subarray(0, pixels - 1), b * pixels + 1);
    targets.set(image, b * pixels);
  });
  return {
    inputs: ctx.device.tensor(inputs, [rows.length, pixels], { dtype: 'i32' }),
    targets: ctx.device.tensor(targets, [rows.length, pixels], { dtype: 'i32' }),
  };
}

/** Trains a fresh GPT on `count` token images and stores the checkpoint; returns the train report. */
export async function trainPixelGpt(
  ctx: TaskContext,
  id: string,
  config: models.GPTConfig,
  pre: PixelPreprocessing,
  tokens: Uint8Array,
  count: number,
  h: PixelTraining,
  run: { steps: number; maxSeconds: number | undefined },
): Promise<tasks.TrainReport> {
  const plan = { h, seed: ctx.seed ?? 0 };
  const uniform = seededUniform(plan.seed * 7919 + 29);
  const pixels = pre.side * pre.side;
  return await tasks.trainAndSave(ctx, id, plan, {
    build: () => new models.GPT(ctx.device, config),
    describe: (gpt) =>
      `${id}: GPT ${config.nLayer} layers x ${config.nEmbd} (${gpt.numParameters()} parameters) on ${count} images of ${pixels} pixels, ${ctx.device.backend}`,
    train: (gpt) =>
      tasks.trainTaskModel(ctx, gpt, { ...h, betas: [0.9, 0.95] }, run, {
        progressEvery: 5,
        unit: 'pixels',
        items: () => h.batchSize * pixels,
        batch: () =>
          packImages(
            ctx,
            tokens,
            Array.from({ length: h.batchSize }, () => Math.floor(uniform() * count)),
            pre,
          ),
        loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets),
      }),
    preprocessing: pre,
  });
}

/** Summed NLL (bits) of `count` token images. */
export async function pixelNll(
  gpt: models.GPT,
  tokens: Uint8Array,
  count: number,
  pre: PixelPreprocessing,
  batch = 100,
): Promise<number> {
  gpt.eval();
  const ctx = { device: gpt.device };
  let nats = 0;
  for (let start = 0; start < count; start += batch) {
    const rows = Array.from({ length: Math.min(batch, count - start) }, (_, i) => start + i);
    const loss = noGrad(() =>
      tidy(() => {
        const { inputs, targets } = packImages(ctx, tokens, rows, pre);
        return nn.crossEntropy(gpt.forward(inputs), targets, { reduction: 'sum' });
      }),
    );
    nats += (await loss.read())[0]!;
    loss.dispose();
  }
  return nats / Math.LN2;
}

/** Attention of every layer (or those asked for) over a picture's pixels: BOS, then all but the last pixel. */
export async function attentionOf(
  gpt: models.GPT,
  pre: PixelPreprocessing,
  image: Uint8Array,
  layers: readonly number[] | undefined,
): Promise<AttentionReport> {
  const { nLayer, nHead } = gpt.config;
  const which = layers ?? Array.from({ length: nLayer }, (_, i) => i);
  const pixels = pre.side * pre.side;
  const ids = Int32Array.from([pre.bos, ...image.subarray(0, pixels - 1)]);
  const maps = noGrad(() =>
    tidy(
      () =>
        gpt.forwardDetailed(gpt.device.tensor(ids, [1, pixels], { dtype: 'i32' }), {
          attentionWeights: [...which],
        }).attentions,
    ),
  );
  const layerMaps = await tasks.attentionLayerMaps(maps, which, nHead);
  const labels = [
    'bos',
    ...Array.from({ length: pixels - 1 }, (_, i) => `${Math.floor(i / pre.side)},${i % pre.side}`),
  ];
  return {
    positions: 'patches',
    labels,
    numLayers: nLayer,
    layers: layerMaps,
    causal: true,
  };
}

/** A gray grid of `count` cells of `side` x `side` with a 2-pixel margin, filled cell by cell or row by row. */
export function gridOf(count: number, side: number) {
  const margin = 2;
  const columns = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const width = columns * (side + margin) + margin;
  const height = rows * (side + margin) + margin;
  const data = new Uint8Array(width * height).fill(128);
  const origin = (n: number) =>
    [margin + Math.floor(n / columns) * (side + margin), margin + (n % columns) * (side + margin)] as const;
  return {
    image: { width, height, channels: 1 as const, data },
    placeRow(n: number, row: number, values: Uint8Array) {
      const [top, left] = origin(n);
      data.set(values, (top + row) * width + left);
    },
    place(n: number, values: Uint8Array) {
      for (let r = 0; r < side; r++) this.placeRow(n, r, values.subarray(r * side, (r + 1) * side));
    },
    /** The grid rows that image row `row` lands on. */
    rowsOf(row: number): number[] {
      return Array.from({ length: rows }, (_, k) => margin + k * (side + margin) + row);
    },
    row(r: number): Uint8Array {
      return data.slice(r * width, (r + 1) * width);
    },
  };
}
