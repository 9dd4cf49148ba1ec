/**
 * `multihead demo` (the README's main job): on the backend `auto` picks, it trains the text/names GPT
 * from scratch for a fixed time budget (autograd, fused attention forward and backward, AdamW with a
 * cosine schedule), samples names from it (how many are new), measures the held-out NLL per character
 * beside a bigram's, and draws one layer's attention for a sampled name as a PNG heatmap.
 */
import { join } from 'node:path';
import { io, type TaskContext, tasks } from '@multihead/core';
import { evaluateNames, NAMES_TASK_ID, namesTask, trainNames } from '@multihead/text';
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
    store: tasks.folderStore(join(out, 'checkpoints')),
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
    const report = await evaluateNames(ctx);
    const nll = report.metrics['nll']!;
    const bigram = report.baselines['bigram']!['nll']!;
    say(opts, `   GPT    ${nll.toFixed(4)} nats/char`);
    say(opts, `   bigram ${bigram.toFixed(4)} nats/char (smoothed, same training names)`);
    const samples = report.details['samples'] as string[];
    say(
      opts,
      `   ${samples.length} sampled names (${Math.round(report.metrics['novelFraction']! * 100)}% not in the training set):`,
    );
    say(opts, `   ${samples.join(' ')}`);

    // the task protocol's attention output: every layer and head of the model reading one name
    const name = samples.find((s) => s.length >= 4 && s.length <= 10) ?? samples[0] ?? 'emma';
    const maps = await namesTask.attention(ctx, name);
    const layer = opts.layer ?? maps.numLayers - 1;
    const map = maps.layers.find((l) => l.layer === layer);
    if (!map) throw new Error(`--layer: the model has layers 0 to ${maps.numLayers - 1}; got ${layer}`);
    const png = join(out, 'attention.png');
    await writePng(png, attentionImage(map.weights, map.heads, maps.labels, { causal: true }));
    say(
      opts,
      `\n3) attention of layer ${layer} (${map.heads} heads, left to right) reading '.${name}.': ${png}`,
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
        metrics: {
          nll,
          bigramNll: bigram,
          ...report.metrics,
          heldOutNames: report.examples,
          checkpointSource: report.checkpoint.source,
        },
        report,
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
