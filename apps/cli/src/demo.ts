/**
 * `multihead demo` (the README's main job): on the backend `auto` picks, it trains the text/names GPT
 * from scratch for a fixed time budget (autograd, fused attention forward and backward, AdamW with a
 * cosine schedule), samples names from it (how many are new), measures the held-out NLL per character
 * beside a bigram's, and draws one layer's attention for a sampled name as a PNG heatmap.
 */
import { join } from 'node:path';
import { io } from '@multihead/core';
import {
  evaluateNames,
  gptAttentionMaps,
  loadLm,
  NAMES_TASK_ID,
  type TaskContext,
  trainNames,
} from '@multihead/text';
import { type CommonOptions, emitJson, openDevice, say, trainingProgress } from './common.js';
import { attentionImage, writePng } from './heatmap.js';

export interface DemoOptions extends CommonOptions {
  /** Training time budget in seconds (default 120). */
  maxSeconds: number;
  /** The layer whose heads the heatmap shows (default: the last). */
  layer?: number;
  /** Where the demo writes its checkpoint and picture (default `<repo>/.cache/demo`). */
  out?: string;
}

export async function demo(opts: DemoOptions): Promise<void> {
  if (!(opts.maxSeconds > 0)) throw new Error(`--max-seconds: got ${opts.maxSeconds}; expected a number > 0`);
  const device = await openDevice(opts);
  if (device.adapter)
    say(
      opts,
      `adapter: ${device.adapter.vendor}/${device.adapter.architecture} (${device.adapter.description})`,
    );
  const out = opts.out ?? (await io.cacheDir('demo'));
  // its own checkpoint folder: a short demo run must not shadow a properly trained text/names model
  const ctx: TaskContext = {
    device,
    checkpointDir: join(out, 'checkpoints'),
    seed: opts.seed,
    log: (line) => say(opts, `   ${line}`),
  };
  try {
    say(
      opts,
      `\n1) training the ${NAMES_TASK_ID} GPT from scratch for ${opts.maxSeconds} s (names from BOS to EOS)`,
    );
    const progress = trainingProgress(opts, '   train', { seconds: opts.maxSeconds });
    ctx.onProgress = progress.onProgress;
    const training = await trainNames(ctx, { maxSeconds: opts.maxSeconds });
    progress.stop();
    delete ctx.onProgress;
    const curve = thin(training.losses, 8);
    say(opts, `   loss ${curve.map((l) => `${l.loss.toFixed(3)} @${l.step}`).join(' -> ')}`);
    say(opts, `   ${training.steps} steps in ${training.seconds.toFixed(1)} s`);

    say(opts, '\n2) held-out names (the 20% never trained on): NLL per character, end token included');
    const metrics = await evaluateNames(ctx);
    say(opts, `   GPT    ${Number(metrics.nll).toFixed(4)} nats/char`);
    say(opts, `   bigram ${Number(metrics.bigramNll).toFixed(4)} nats/char (smoothed, same training names)`);
    const samples = String(metrics.samples).split(', ');
    say(
      opts,
      `   20 sampled names (${Math.round(Number(metrics.novelFraction) * 100)}% not in the training set):`,
    );
    say(opts, `   ${samples.join(' ')}`);

    const lm = await loadLm(ctx, NAMES_TASK_ID);
    let png: string;
    let layer: number;
    const name = samples.find((s) => s.length >= 4 && s.length <= 10) ?? samples[0] ?? 'emma';
    try {
      layer = opts.layer ?? lm.gpt.config.nLayer - 1;
      const boundary = lm.tokenizer.bosId!;
      const ids = [boundary, ...lm.tokenizer.encode(name, { addSpecialTokens: false }).ids, boundary];
      const maps = await gptAttentionMaps(lm.gpt, ids.slice(0, lm.gpt.config.blockSize), layer);
      const labels = ids.slice(0, maps.length).map((id) => lm.tokenizer.idToToken(id) ?? '?');
      png = join(out, 'attention.png');
      await writePng(png, attentionImage(maps.weights, maps.heads, labels));
    } finally {
      lm.gpt.dispose();
    }
    say(
      opts,
      `\n3) attention of layer ${layer} (${lm.gpt.config.nHead} heads, left to right) reading '.${name}.': ${png}`,
    );
    const memory = device.memory();
    say(opts, `\nlive tensors after the demo: ${memory.liveTensors} (${memory.liveBytes} bytes)`);
    if (opts.json)
      emitJson({
        backend: device.backend,
        reason: device.reason,
        adapter: device.adapter,
        training: {
          task: NAMES_TASK_ID,
          maxSeconds: opts.maxSeconds,
          steps: training.steps,
          seconds: training.seconds,
          finalLoss: training.finalLoss,
          losses: training.losses,
          checkpoint: training.checkpoint,
        },
        metrics,
        samples,
        attention: { png, layer, name },
        memory,
      });
  } finally {
    device.destroy();
  }
}

/** At most `n` points of a curve, evenly spaced, the last one always kept. */
function thin<T>(points: readonly T[], n: number): T[] {
  if (points.length <= n) return [...points];
  return Array.from({ length: n }, (_, i) => points[Math.round((i * (points.length - 1)) / (n - 1))]!);
}
