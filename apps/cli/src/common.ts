/** What every command shares: --backend, --seed, --json, the device, progress bars, the final JSON line. */

import { createDevice, type Device, type tasks } from '@multihead/core';

type TrainProgressEvent = tasks.TrainProgressEvent;

import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';

export interface CommonOptions {
  backend: 'auto' | 'webgpu' | 'cpu';
  seed: number;
  json: boolean;
}

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--backend <backend>', "compute backend: 'auto', 'webgpu' or 'cpu'", 'auto')
    .option('--seed <n>', 'random seed (an integer)', parseSeed, 0)
    .option('--json', 'end with one JSON line of results (human output goes to stderr)', false);
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n)) throw new Error(`--seed: got '${v}'; expected an integer`);
  return n;
}

export function checkBackend(value: string): CommonOptions['backend'] {
  if (value !== 'auto' && value !== 'webgpu' && value !== 'cpu') {
    throw new Error(`--backend: got '${value}'; expected 'auto', 'webgpu' or 'cpu'`);
  }
  return value;
}

/** Human-readable lines: stdout normally, stderr under --json so stdout carries only the JSON line. */
export function say(opts: CommonOptions, line: string): void {
  (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
}

export async function openDevice(opts: CommonOptions): Promise<Device> {
  const device = await createDevice({ backend: checkBackend(opts.backend) });
  say(opts, `backend: ${device.backend} — ${device.reason}`);
  return device;
}

/** A progress bar on stderr; silent when stderr is not a terminal-like stream worth drawing on. */
export function progressBar(label: string, total: number): { tick: (n?: number) => void; stop: () => void } {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: false,
  });
  bar.start(total, 0);
  return {
    tick: (n = 1) => bar.increment(n),
    stop: () => bar.stop(),
  };
}

/**
 * Training progress: a bar on a terminal (over the steps, or over the seconds of a time budget), with
 * the loss and tokens/s of the latest report; elsewhere (a pipe, a log, --json) a line on stderr every
 * 10 seconds, so a long run still shows it is alive.
 */
export function trainingProgress(
  opts: CommonOptions,
  label: string,
  budget: { seconds?: number } = {},
): {
  onProgress: (p: TrainProgressEvent) => void;
  stop: () => void;
} {
  const useBar = !opts.json && process.stderr.isTTY === true;
  const started = performance.now();
  let bar: SingleBar | null = null;
  let last = started;
  return {
    onProgress: (p) => {
      const payload = {
        step: p.step,
        loss: p.loss.toFixed(4),
        rate: Math.round(p.itemsPerSecond),
        unit: p.unit,
      };
      if (useBar) {
        if (!bar) {
          const unit = budget.seconds ? ' s | step {step}' : ' steps';
          bar = new SingleBar({
            format: `${label} [{bar}] {value}/{total}${unit} | loss {loss} | {rate} {unit}/s`,
            stream: process.stderr,
            hideCursor: true,
            noTTYOutput: false,
          });
          bar.start(budget.seconds ?? p.steps, 0, payload);
        }
        const seconds = Math.min(budget.seconds ?? 0, Math.round((performance.now() - started) / 1000));
        bar.update(budget.seconds ? seconds : p.step, payload);
      } else if (performance.now() - last > 10_000) {
        last = performance.now();
        process.stderr.write(`${label}: step ${p.step}, loss ${payload.loss}, ${payload.rate} ${p.unit}/s\n`);
      }
    },
    stop: () => {
      bar?.stop();
      bar = null;
    },
  };
}

export function emitJson(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
