/** docs/benchmarks.md: one section per benchmark between markers, replaced on each `--write` run. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { BenchEnv } from './env.js';
import type { BenchName, BenchRow } from './types.js';

const TITLES: Record<BenchName, string> = {
  matmul: 'matmul (f32, square n x n x n)',
  softmax: 'softmax (f32, over the last axis of rows x cols)',
};

const HEADER = `# Benchmarks

Written by \`tools/bench\` (\`pnpm bench -- <matmul|softmax> --write\`, or \`multihead bench <name>\`). Each
section comes from one run: our kernels and the peers on the same device in the same process, so the
ratios hold even where absolute figures drift (the reference machine has 2 shared cores and runs vary
by +-20% or more). ms is the median per call over the timed batches, after a warm-up, with the output
read back at the end of each batch; max err is against a float64 reference on a sample of rows.
`;

export function markdownSection(
  name: BenchName,
  rows: readonly BenchRow[],
  env: BenchEnv,
  command: string,
): string {
  const date = new Date().toISOString().slice(0, 10);
  const throughput = name === 'matmul' ? 'GFLOP/s' : 'GB/s';
  const lines = [
    `## ${TITLES[name]}`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); tfjs-webgpu ${env.tf.version_core} on ${env.tfAdapter}`,
    `- command: \`${command}\``,
    `- throughput: ${name === 'matmul' ? '2·M·N·K flops' : 'bytes read + written (2 · rows · cols · 4)'} per second; ours/tfjs is the ratio of throughputs`,
    '',
    `| size | implementation | ms | ${throughput} | max err | ours/tfjs |`,
    '|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.ms} | ${r.gflops ?? r.gbps} | ${r.maxErr.toExponential(1)} | ${r.vsTfjs ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

/** Replaces (or appends) the section of `name` in the file; returns the new text. */
export function updateBenchmarksDoc(path: string, name: BenchName, section: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${section}\n${end}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, text);
  return text;
}
