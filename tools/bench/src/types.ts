export type BenchName = 'matmul' | 'softmax';

export interface BenchOptions {
  /** matmul: square sizes n (n x n x n); softmax: column counts (rows fixed at 4096). */
  sizes?: number[];
  /** Timed batches per case; the median is reported. */
  reps?: number;
  onProgress?: (done: number, total: number) => void;
}

/** One implementation on one size. Throughput is GFLOP/s (matmul: 2·M·N·K) or GB/s (softmax: read + write). */
export interface BenchRow {
  bench: BenchName;
  /** 'multihead-webgpu' | 'tfjs-webgpu' | 'multihead-cpu' */
  impl: string;
  /** 'MxNxK' (matmul) or 'rowsxcols' (softmax) */
  size: string;
  /** median ms per call, output read back at the end of each timed batch */
  ms: number;
  gflops?: number;
  gbps?: number;
  /** largest |error| against a float64 reference on a sample of rows */
  maxErr: number;
  /** ours / tfjs-webgpu throughput on the same adapter (on our WebGPU rows) */
  vsTfjs?: number;
  /** where it ran: the adapter, or 'cpu' */
  device: string;
  reps: number;
  /** calls per timed batch */
  iters: number;
}
