/**
 * Square block layouts for `blockSparseAttention` (row-major Uint8Array over nBlocks x nBlocks blocks,
 * 1 = attend): banded, Sparse Transformer's strided pattern, and BigBird.
 */
import { fail } from '../../errors.js';

const checkCount = (op: string, name: string, x: unknown, min: number) => {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    fail('INVALID_ARGUMENT', `${op}: ${name} must be an integer >= ${min}, got ${JSON.stringify(x)}`);
  }
};

/** Square layouts over nBlocks x nBlocks blocks (row-major Uint8Array, 1 = attend), for self-attention. */
export const blockLayouts = {
  /** Banded: query block qb sees key blocks kb with |qb - kb| <= width (add `causal` for the lower half). */
  local(nBlocks: number, width: number): Uint8Array {
    checkCount('blockLayouts.local', 'nBlocks', nBlocks, 1);
    checkCount('blockLayouts.local', 'width', width, 0);
    return grid(nBlocks, (qb, kb) => Math.abs(qb - kb) <= width);
  },
  /**
   * Sparse Transformer "strided" pattern (Child et al. 2019) at block level, both of its heads in one
   * layout: the `stride` - 1 neighbouring blocks on each side (|qb - kb| < stride) and every stride-th
   * block (|qb - kb| % stride == 0). The paper's pattern is autoregressive: use it with `causal: true`.
   */
  strided(nBlocks: number, stride: number): Uint8Array {
    checkCount('blockLayouts.strided', 'nBlocks', nBlocks, 1);
    checkCount('blockLayouts.strided', 'stride', stride, 1);
    return grid(nBlocks, (qb, kb) => Math.abs(qb - kb) < stride || Math.abs(qb - kb) % stride === 0);
  },
  /**
   * BigBird (Zaheer et al. 2020), block version: a window of `window` blocks on each side (default 1,
   * BigBird's 3 sliding blocks), `global` first blocks that attend to and are seen by every block
   * (default 1), and `random` extra key blocks per query block (default 1), drawn without replacement
   * among the blocks not already allowed, reproducibly from `seed` (default 0).
   */
  bigBird(
    nBlocks: number,
    opts: { window?: number; global?: number; random?: number; seed?: number } = {},
  ): Uint8Array {
    const op = 'blockLayouts.bigBird';
    const { window = 1, global = 1, random = 1, seed = 0 } = opts;
    checkCount(op, 'nBlocks', nBlocks, 1);
    checkCount(op, 'window', window, 0);
    checkCount(op, 'global', global, 0);
    checkCount(op, 'random', random, 0);
    checkCount(op, 'seed', seed, 0);
    const layout = grid(nBlocks, (qb, kb) => Math.abs(qb - kb) <= window || qb < global || kb < global);
    let s = (seed ^ 0x9e3779b9) >>> 0 || 1; // xorshift32
    const next = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 4294967296;
    };
    for (let qb = 0; qb < nBlocks; qb++) {
      const free: number[] = [];
      for (let kb = 0; kb < nBlocks; kb++) if (!layout[qb * nBlocks + kb]) free.push(kb);
      for (let n = 0; n < random && free.length > 0; n++) {
        const pick = Math.floor(next() * free.length);
        layout[qb * nBlocks + free[pick]!] = 1;
        free.splice(pick, 1);
      }
    }
    return layout;
  },
};

function grid(n: number, allowed: (qb: number, kb: number) => boolean): Uint8Array {
  const out = new Uint8Array(n * n);
  for (let qb = 0; qb < n; qb++) for (let kb = 0; kb < n; kb++) out[qb * n + kb] = allowed(qb, kb) ? 1 : 0;
  return out;
}
