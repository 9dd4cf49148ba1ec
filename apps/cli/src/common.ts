/** What every command shares: --backend, --seed, --json, the device, progress bars, the final JSON line. */

import { createDevice, type Device } from '@multihead/core';
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
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 0)
    .option('--json', 'end with one JSON line of results (human output goes to stderr)', false);
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

export function emitJson(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
