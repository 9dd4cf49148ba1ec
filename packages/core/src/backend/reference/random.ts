/** Random tensors on the reference backend: the same counter hash as the WGSL, so values match bit for bit. */
import { unit } from '../../kernels/random.js';
import type { KernelSignatures } from '../../kernels/signatures.js';

type Sig = KernelSignatures;

export function randomFillReference({ dist, out, stream, a, b }: Sig['RandomFill']['args']): void {
  const { key0, key1, offset } = stream;
  const dst = out.storage.array!;
  const n = out.size;
  for (let i = 0; i < n; i++) {
    if (dist === 'uniform') dst[i] = a + (b - a) * unit((offset + i) >>> 0, key0, key1);
    else {
      const u1 = unit((offset + 2 * i) >>> 0, key0, key1);
      const u2 = unit((offset + 2 * i + 1) >>> 0, key0, key1);
      dst[i] = a + b * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
}

export function dropoutMaskReference({ out, stream, p, scale }: Sig['DropoutMask']['args']): void {
  const { key0, key1, offset } = stream;
  const dst = out.storage.array!;
  const threshold = Math.fround(p);
  for (let i = 0; i < out.size; i++) dst[i] = unit((offset + i) >>> 0, key0, key1) >= threshold ? scale : 0;
}
