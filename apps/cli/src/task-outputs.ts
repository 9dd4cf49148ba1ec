/**
 * A task's output on the terminal and on disk, from its declared kind: labels and values as text; images,
 * audio and MIDI (and any artifacts the task made) as files; attention maps as PNG heatmaps, plus a
 * rollout overlay when the task gives one.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type InputValue, io, type Task, type TaskContext, type TaskOutput } from '@multihead/core';
import { attentionImage, overlayImage, writePng } from './heatmap.js';
import { userPath } from './paths.js';

/** `--out`, else `<task name>.<ext>` in the user's directory. */
function outPath(task: Task, out: string | undefined, ext: string): string {
  return userPath(out ?? `${task.id.split('/')[1]}.${ext}`);
}

async function write(path: string, bytes: Uint8Array): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await io.writeFileAtomic(path, bytes, 'writing the output');
  return path;
}

/** 16-bit PCM mono WAV (RIFF): enough for a task's audio output when it brings no WAV artifact. */
function wavBytes(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[offset + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), true);
  }
  return bytes;
}

/** Prints the output (labels, text, values) and writes its files; returns the paths written. */
export async function writeOutput(
  task: Task,
  output: TaskOutput,
  opts: { out?: string; json: boolean },
  say: (line: string) => void,
): Promise<string[]> {
  const files: string[] = [];
  const print = (line: string) => (opts.json ? say(line) : process.stdout.write(`${line}\n`));
  switch (output.kind) {
    case 'label':
      print(`label: ${output.label}`);
      for (const s of output.scores) print(`  ${s.label.padEnd(12)} ${s.probability.toFixed(4)}`);
      break;
    case 'labels':
      for (const item of output.items) print(`${item.position.padEnd(12)} ${item.label}`);
      break;
    case 'values':
      for (const [name, v] of Object.entries(output.values))
        print(`${name}: ${v} ${output.units?.[name] ?? ''}`.trimEnd());
      break;
    case 'text':
      break; // streamed already
    case 'image': {
      const { width, height, channels, data } = output.image;
      if (!output.artifacts?.some((a) => a.mime === 'image/png')) {
        const path = outPath(task, opts.out, 'png');
        const { default: sharp } = await import('sharp');
        await mkdir(dirname(path), { recursive: true });
        await sharp(data, { raw: { width, height, channels } }).png().toFile(path);
        files.push(path);
      }
      break;
    }
    case 'audio':
      if (!output.artifacts?.some((a) => a.mime === 'audio/wav'))
        files.push(await write(outPath(task, opts.out, 'wav'), wavBytes(output.samples, output.sampleRate)));
      break;
    case 'midi':
      if (!output.artifacts?.some((a) => a.mime === 'audio/midi'))
        files.push(await write(outPath(task, opts.out, 'mid'), output.midi));
      break;
  }
  // artifacts: the first goes to --out when given (and of the output's own type), the rest beside it
  for (const [i, artifact] of (output.artifacts ?? []).entries()) {
    const ext = artifact.name.split('.').pop() ?? 'bin';
    const first = i === 0 && opts.out !== undefined && opts.out.endsWith(`.${ext}`);
    const base = opts.out ? dirname(userPath(opts.out)) : userPath('.');
    files.push(await write(first ? userPath(opts.out!) : join(base, artifact.name), artifact.bytes));
  }
  for (const f of files) say(`wrote ${f}`);
  return files;
}

/**
 * The attention maps of `input` as PNG at `path`: the chosen layer's heads side by side (default the last
 * layer); with a rollout, `<path without .png>-rollout.png` over the input.
 */
export async function writeAttention(
  task: Task,
  ctx: TaskContext,
  input: InputValue | undefined,
  path: string,
  layer: number | undefined,
): Promise<{ files: string[]; layer: number; heads: number; positions: number }> {
  const report = await task.attention(ctx, input);
  const chosen = layer ?? report.numLayers - 1;
  const map = report.layers.find((l) => l.layer === chosen);
  if (!map) {
    throw new Error(`--layer: ${task.id} has layers 0 to ${report.numLayers - 1}; got ${chosen}`);
  }
  const image = attentionImage(map.weights, map.heads, report.labels, {
    ...(report.queryLabels ? { queryLabels: report.queryLabels } : {}),
    causal: report.causal,
  });
  await writePng(path, image);
  const files = [path];
  if (report.rollout && report.background && report.grid) {
    const rolloutPath = path.replace(/\.png$/i, '') + '-rollout.png';
    await writePng(rolloutPath, overlayImage(report.background, report.rollout, report.grid));
    files.push(rolloutPath);
  }
  return { files, layer: chosen, heads: map.heads, positions: report.labels.length };
}
