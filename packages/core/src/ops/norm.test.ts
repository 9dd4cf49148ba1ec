import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { layerNorm, rmsNorm } from '../index.js';

const { dev } = await getDevices();

function normRef(
  x: Float32Array,
  dim: number,
  kind: 'layer' | 'rms',
  w?: Float32Array,
  b?: Float32Array,
  eps = 1e-5,
) {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    const row = Array.from(x.subarray(r * dim, (r + 1) * dim));
    const mean = kind === 'layer' ? row.reduce((a, c) => a + c, 0) / dim : 0;
    const v = row.reduce((a, c) => a + (c - mean) ** 2, 0) / dim;
    row.forEach((c, j) => {
      out[r * dim + j] = ((c - mean) / Math.sqrt(v + eps)) * (w ? w[j]! : 1) + (b ? b[j]! : 0);
    });
  }
  return out;
}

describe('layerNorm and rmsNorm', () => {
  const x = randomData(5 * 3 * 13, 8, 3);
  const w = randomData(13, 9);
  const b = randomData(13, 10);
  it('layerNorm over the last dim, with and without affine', async () => {
    const t = dev.tensor(x, [5, 3, 13]);
    expectClose(await layerNorm(t, [13]).read(), normRef(x, 13, 'layer'), 1e-5, 1e-5, 'plain');
    const out = layerNorm(t, [13], { weight: dev.tensor(w, [13]), bias: dev.tensor(b, [13]) });
    expectClose(await out.read(), normRef(x, 13, 'layer', w, b), 1e-5, 1e-5, 'affine');
  });
  it('layerNorm over the last two dims', async () => {
    const t = dev.tensor(x, [5, 3, 13]);
    expectClose(await layerNorm(t, [3, 13]).read(), normRef(x, 39, 'layer'), 1e-5, 1e-5, '2 dims');
  });
  it('rmsNorm with weight (eps 1e-6)', async () => {
    const t = dev.tensor(x, [15, 13]);
    const out = rmsNorm(t, [13], { weight: dev.tensor(w, [13]) });
    expectClose(await out.read(), normRef(x, 13, 'rms', w, undefined, 1e-6), 1e-5, 1e-5, 'rms');
  });
  it('normalizes a transposed view', async () => {
    const t = dev.tensor(x, [13, 15]).mT;
    const ref = normRef(new Float32Array(await t.read()), 13, 'layer');
    expectClose(await layerNorm(t, [13]).read(), ref, 1e-5, 1e-5, 'view');
  });
  it('names shapes in errors', () => {
    const t = dev.tensor(x, [15, 13]);
    expect(() => layerNorm(t, [12])).toThrowError(
      /normalizedShape \[12\] is not the trailing shape of x \[15, 13\]/,
    );
    expect(() => layerNorm(t, [13], { weight: dev.tensor(w.subarray(0, 12), [12]) })).toThrowError(
      /weight has shape \[12\]/,
    );
  });
});
