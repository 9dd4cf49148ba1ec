/** docs/benchmarks.md: one section per benchmark between markers, replaced on each `--write` run. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DECODE_MODELS } from './decode.js';
import type { BenchEnv } from './env.js';
import { TRAIN_MODEL, TRAIN_OPTIM } from './train.js';
import type { AnyBenchName, BenchName, BenchRow } from './types.js';

const TITLES: Record<BenchName, string> = {
  matmul: 'matmul (f32, square n x n x n)',
  softmax: 'softmax (f32, over the last axis of rows x cols)',
  attention: 'attention (f32, B 1, H 8, D 64, causal and not)',
  train: 'train (one step of a small GPT: forward, cross-entropy, backward, AdamW)',
  decode: 'decode (tokens/s of autograd-free generation, KV cache vs none)',
  cpu: 'cpu backend (wasm SIMD kernels vs onnxruntime-node CPU and onnxruntime-web wasm; no GPU)',
};

const HEADER = `# Benchmarks

Written by \`tools/bench\` (\`pnpm bench -- <matmul|softmax|attention|train|decode|cpu|vit|logmel> --write\`, or \`multihead bench <name>\`). Each
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
  if (name === 'attention') return attentionSection(rows, env, command);
  if (name === 'train') return trainSection(rows, env, command);
  if (name === 'decode') return decodeSection(rows, env, command);
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
        `| ${r.size} | ${r.impl} | ${r.ms} | ${r.gflops ?? r.gbps} | ${err(r.maxErr)} | ${r.vsTfjs ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

const cell = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
const err = (x: number | undefined) => (x === undefined ? '' : x.toExponential(1));
const mib = (bytes: number | undefined) => (bytes === undefined ? '' : (bytes / 2 ** 20).toFixed(0));

function attentionSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const ort = rows.find((r) => r.impl === 'ort-web-webgpu' && !r.error);
  const errors = rows.filter((r) => r.error);
  const lines = [
    `## ${TITLES.attention}`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); tfjs-webgpu ${env.tf.version_core} on ${env.tfAdapter}; onnxruntime-web 1.30.0 (\`onnxruntime-web/webgpu\`, native WebGPU EP, 1 wasm thread) on ${ort?.device ?? 'its own device from navigator.gpu'}`,
    `- command: \`${command}\``,
    '- implementations: `multihead-fused` is `attention(q, k, v, { causal })`; `multihead-fused-bwd` is `attentionBackward` from the saved out and lse, dq, dk and dv read back; `multihead-fused-tiled` / `multihead-fused-registers` (and `-bwd`) is the kernel family `auto` did not pick for this adapter (`kernel` option: software adapters get the register kernels, hardware GPUs the workgroup-tiled ones); `multihead-unfused` is our ops, `softmax(add(mul(matmul(q, k.mT), scale), causalBias), -1)` then `matmul(p, v)`; `tfjs-webgpu` is `tf.matMul(q, k, false, true)`·scale (+ mask) → `tf.softmax` → `tf.matMul(p, v)`; `ort-web-webgpu` runs the ONNX graph Transpose/MatMul/Mul/[Add mask]/Softmax/MatMul',
    "- throughput: forward 4·B·H·N²·D flops, backward 10·B·H·N²·D (2.5x forward), both halved when causal; ours/tfjs and ours/ort are ratios of throughput (peer ms / our ms); causal x is non-causal ms / causal ms of the same implementation, timed again in alternating batches of the two calls (the ms column's two timings are minutes apart, peers between them) unless a call takes over 1.25 s; bwd/fwd is backward ms / fused forward ms",
    '- max err: against a float64 reference on 3 query rows of every head (the output; dq for the backward)',
    "- peak MiB: our pool's high-water mark over the case (`device.memory().gpuAllocatedBytes`, pool emptied before the case; buffers are rounded up to size classes, and idle buffers past the 512 MiB pool limit are freed, so it is a lower bound there); empty for peers",
    '- a case that takes over 5 s a call is timed on a single call after the warm-up (reps 1)',
    '',
    '| size | causal | implementation | ms | GFLOP/s | max err | peak MiB | ours/tfjs | ours/ort | causal x | bwd/fwd |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.causal ? 'yes' : 'no'} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.gflops)} | ${r.error ? '' : err(r.maxErr)} | ${mib(r.peakBytes)} | ${cell(r.vsTfjs)} | ${cell(r.vsOrt)} | ${cell(r.causalSpeedup)} | ${cell(r.bwdOverFwd)} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}, causal ${r.causal}: ${r.error}`);
  }
  return lines.join('\n');
}

function trainSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const { vocabSize, nEmbd, nLayer, nHead, batch } = TRAIN_MODEL;
  const { lr, betas, eps, weightDecay } = TRAIN_OPTIM;
  const errors = rows.filter((r) => r.error);
  const lines = [
    `## ${TITLES.train}`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); tfjs-webgpu ${env.tf.version_core} on ${env.tfAdapter}`,
    `- command: \`${command}\``,
    `- model: GPT-2 style decoder, byte-level vocab ${vocabSize}, d_model ${nEmbd}, ${nLayer} layers, ${nHead} heads, MLP ${4 * nEmbd} with GELU (tanh), pre-norm LayerNorm, learned positions, head tied to the token embedding, biases, no dropout; batch ${batch} x T tokens (size); loss: mean cross-entropy over next tokens; GPT-2 init (N(0, 0.02), residual projections 0.02/sqrt(2·layers)) from each implementation's own seed`,
    `- optimizer: AdamW, lr ${lr}, betas [${betas.join(', ')}], eps ${eps}, weight decay ${weightDecay} on matrices and embeddings only (nanoGPT's groups), no clipping; tfjs-webgpu and tfjs-wasm: \`tf.train.adam\` plus the decoupled decay p *= 1 - lr·wd, applied after the gradients and before the update (PyTorch's order)`,
    "- implementations: `multihead-webgpu` and `multihead-cpu` are `models.GPT` + `nn.crossEntropy` + `optim.AdamW`, one `tidy` a step (`multihead-cpu` on the CPU backend's default wasm kernels; `multihead-cpu-reference` the same on its plain-TypeScript kernels, `kernels: 'reference'`: the CPU backend before the wasm kernels); `tfjs-webgpu` (tfjs' WebGPU backend, our adapter) and `tfjs-wasm` (`@tensorflow/tfjs-backend-wasm`: XNNPACK, SIMD, 2 threads, device column) are the same network in tfjs-core ops (`tf.gather` embedding; matMul, scale, additive causal mask, `tf.softmax`, matMul attention; `tf.moments` LayerNorm; `tf.losses.softmaxCrossEntropy` on one-hot labels) trained with `tf.variableGrads` + `applyGradients`",
    '- data: one fixed batch of seeded random bytes, the same for all, every step (so the loss falls from about ln 256 = 5.55 as the model fits it)',
    '- ms: median over the timed steps after one warm-up step; each step ends by reading the loss back, so queued GPU work is counted; tokens/s = batch·T / ms; ours/tfjs and ours/tfjs-wasm are ratios of tokens/s (ours over tfjs-webgpu, over tfjs-wasm)',
    '- loss: init is the warm-up step (initial weights), first and last are the first and last timed steps',
    "- peak MiB: our pool's high-water mark over the run (`device.memory().gpuAllocatedBytes`, pool emptied before it): weights, AdamW state, activations and gradients; empty for the CPU and for tfjs",
    '',
    '| size | implementation | ms/step | tokens/s | loss init | loss first | loss last | params | peak MiB | ours/tfjs | ours/tfjs-wasm | device |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.tokensPerSecond)} | ${cell(r.initialLoss)} | ${cell(r.firstLoss)} | ${cell(r.lastLoss)} | ${cell(r.params)} | ${mib(r.peakBytes)} | ${cell(r.vsTfjs)} | ${cell(r.vsTfjsWasm)} | ${r.device} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}

function decodeSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const describe = (m: keyof typeof DECODE_MODELS) => {
    const c = DECODE_MODELS[m];
    return `${m}: vocab ${c.vocabSize}, block ${c.blockSize}, ${c.nLayer} layers, ${c.nHead} heads, d_model ${c.nEmbd}`;
  };
  const errors = rows.filter((r) => r.error);
  const lines = [
    `## ${TITLES.decode}`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); CPU: ${env.cpu.describe()}`,
    `- command: \`${command}\``,
    `- models (\`models.GPT\`, seeded random weights: speed does not depend on training): ${describe('names')} (the text/names model); ${describe('moby')} (the text/moby model)`,
    '- what is timed: `models.generate(gpt, [0], { maxNewTokens: N, temperature: 0, useCache })`, one whole generation of N tokens after a one-token prompt, greedy, each token read back to the host (as streaming does); median over the timed runs after a warm-up run',
    '- `-kvcache`: the prompt once, then one position per token against the per-layer KV cache (split-K decode kernel for one query); `-nocache`: every token re-runs the whole window. Past the block (names N > 15) the window slides: the cache is rebuilt from the last half block every blockSize / 2 tokens',
    '- tokens/s = N / (ms / 1000); cache x = nocache ms / kvcache ms on the same device',
    '',
    '| size | implementation | ms | tokens/s | cache x | params |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.tokensPerSecond)} | ${cell(r.cacheSpeedup)} | ${cell(r.params)} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}

/** The cpu bench's section: it opens no WebGPU device, so it names the machine itself. */
export function cpuSection(rows: readonly BenchRow[], machine: string, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const errors = rows.filter((r) => r.error);
  const lines = [
    `## ${TITLES.cpu}`,
    '',
    `- date: ${date}`,
    `- machine: ${machine}; Node ${process.version}`,
    `- command: \`${command}\``,
    "- implementations: `multihead-wasm-Nt` is the CPU backend (`createDevice({ backend: 'cpu', threads: N })`, WebAssembly kernels, its default relaxed-SIMD build: fused multiply-add, turned on at run time in Node 20), `multihead-wasm-plain-Nt` the same with `simd: 'plain'` (what runtimes without relaxed SIMD get); `-bwd` rows are `attentionBackward` from the saved out and lse (dq, dk, dv); `ort-node-cpu-Nt` is onnxruntime-node 1.30 (CPU EP, intraOpNumThreads N); `ort-web-wasm-1t` is onnxruntime-web 1.30 (wasm EP, 1 thread); both ORT run the ONNX graph Transpose/MatMul/Mul/[Add causal mask]/Softmax/MatMul (attention; it computes the masked half too) or one MatMul; `multihead-ts-reference` is the plain-TypeScript kernels (`kernels: 'reference'`)",
    '- throughput: attention forward 4·B·H·N²·D flops, backward 2.5x that, both halved when causal; matmul 2·n³; causal x is non-causal ms / causal ms of the same implementation; vs ref is the reference ms / this ms (train step)',
    '- max err: against a float64 reference on 3 query rows of every head (attention; dq for the backward) or a sample of 3 rows (matmul)',
    '',
    '| case | causal | implementation | ms | GFLOP/s | tokens/s | max err | causal x | bwd/fwd | vs ref | device |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.causal === undefined ? '' : r.causal ? 'yes' : 'no'} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.gflops)} | ${cell(r.tokensPerSecond)} | ${r.error || r.maxErr === undefined ? '' : err(r.maxErr)} | ${cell(r.causalSpeedup)} | ${cell(r.bwdOverFwd)} | ${cell(r.vsReference)} | ${r.device} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}

/** Replaces (or appends) the section of `name` in the file; returns the new text. */
export function updateBenchmarksDoc(path: string, name: AnyBenchName, section: string): string {
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
