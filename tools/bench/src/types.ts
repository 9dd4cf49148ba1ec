export type BenchName = 'matmul' | 'softmax' | 'attention' | 'train' | 'decode' | 'cpu';
/** Benchmarks of the modality packages; vit.ts and logmel.ts write their sections (report.ts the others'). */
export type ModalityBenchName = 'vit' | 'logmel';
/**
 * neighborhood.ts (core's neighbourhood attention vs dense masked) and profile.ts (one training step by op
 * kind) write their own sections too.
 */
export type AnyBenchName = BenchName | ModalityBenchName | 'neighborhood' | 'profile';

export interface BenchOptions {
  /**
   * matmul: square sizes n (n x n x n); softmax: column counts (rows fixed at 4096); attention: sequence
   * lengths N (B 1, H 8, D 64); train: sequence lengths T (batch 8, the GPT of train.ts); decode: tokens
   * generated after a one-token prompt (each model of decode.ts); cpu: attention sequence lengths N
   * (matmul n x n x n at those up to 1024); vit: batch sizes (the ViT of vit.ts); logmel: seconds of 16 kHz
   * audio; neighborhood: grid sides n (an n x n grid, N = n², B 1, H 4, D 64, k 7); profile: sequence
   * lengths T of the GPT step (batch 8; the ViT step keeps vision/fashion's batch).
   */
  sizes?: number[];
  /** Timed batches per case (train: timed steps after one warm-up step); the median is reported. */
  reps?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * One implementation on one size. Throughput is GFLOP/s (matmul: 2·M·N·K; attention: 4·B·H·N²·D forward,
 * 10·B·H·N²·D backward, halved when causal) or GB/s (softmax: read + write); train: tokens/s.
 */
export interface BenchRow {
  bench: AnyBenchName;
  /**
   * 'multihead-webgpu' | 'tfjs-webgpu' | 'multihead-cpu'; attention: 'multihead-fused' |
   * 'multihead-fused-bwd' | 'multihead-unfused' | 'tfjs-webgpu' | 'ort-web-webgpu' | 'multihead-fused-tiled' (or
   * '-registers', the family 'auto' did not pick) and its '-bwd'; train:
   * 'multihead-webgpu' | 'multihead-cpu' | 'tfjs-webgpu'; decode: 'multihead-webgpu-kvcache' |
   * 'multihead-webgpu-nocache' | 'multihead-cpu-kvcache' | 'multihead-cpu-nocache'; vit: 'multihead-cpu' |
   * 'multihead-webgpu' | 'tfjs-wasm' | 'tfjs-webgpu' | 'pytorch-cpu'; logmel: 'multihead-cpu' |
   * 'multihead-webgpu' | 'ts-reference'
   */
  impl: string;
  /**
   * 'MxNxK' (matmul), 'rowsxcols' (softmax), 'B1 H8 N1024 D64' (attention), 'B8 T128' (train), 'moby N127'
   * (decode), 'B128' (vit) or '30 s' (logmel)
   */
  size: string;
  /** attention: whether the case is causal */
  causal?: boolean;
  /** median ms per call, output read back at the end of each timed batch (train: per step, loss read) */
  ms: number;
  gflops?: number;
  gbps?: number;
  /** train: tokens (B·T) per second at the median step time; decode: generated tokens per second */
  tokensPerSecond?: number;
  /** largest |error| against a float64 reference on a sample of rows (absent for train: no reference) */
  maxErr?: number;
  /** train: loss of the warm-up step, on the initial weights (about ln V for a fresh model) */
  initialLoss?: number;
  /** train: loss at the first and the last timed step */
  firstLoss?: number;
  lastLoss?: number;
  /** train, decode, vit: trainable values (a tied weight counted once) */
  params?: number;
  /** ours / tfjs-webgpu throughput on the same adapter (on our WebGPU rows; train, vit: on both of ours) */
  vsTfjs?: number;
  /** cpu, train step, logmel: the TypeScript reference's ms / this implementation's ms */
  vsReference?: number;
  /** vit: ours / tfjs-wasm and ours / PyTorch CPU speed (peer ms / our ms), on our rows */
  vsTfjsWasm?: number;
  vsTorch?: number;
  /** vit: images per second at the median step time */
  imagesPerSecond?: number;
  /** vit: |initial loss - the reference's| (PyTorch's), and the same for the loss after one step */
  lossDiff?: number;
  stepLossDiff?: number;
  /** vit, the PyTorch row: its BLAS's 1024^3 matmul GFLOP/s per thread, measured in the same process */
  matmulGflops?: number;
  /** logmel: seconds of audio per second of compute */
  realtime?: number;
  /** neighborhood: dense masked attention's ms / this neighbourhood row's ms, same device and pass */
  vsDense?: number;
  /** attention: ours / onnxruntime-web (WebGPU EP) throughput on the same adapter */
  vsOrt?: number;
  /** attention: non-causal ms / causal ms of the same implementation (on our causal rows) */
  causalSpeedup?: number;
  /** attention: backward ms / forward ms (on the multihead-fused-bwd rows) */
  bwdOverFwd?: number;
  /** decode: ms without the KV cache / ms with it, same device (on the -kvcache rows) */
  cacheSpeedup?: number;
  /**
   * Our pool's high-water mark for the case: `device.memory().gpuAllocatedBytes` after the case, the
   * pool emptied before it (the pool keeps every buffer it made, so this is the most held at once).
   */
  peakBytes?: number;
  /** set when the implementation failed; ms and maxErr are NaN then */
  error?: string;
  /** where it ran: the adapter, or 'cpu' */
  device: string;
  reps: number;
  /** calls per timed batch */
  iters: number;
}
