/** Family 2 on WebGPU only: a device held to a small maxBufferSize (docs/decisions.md "Hardening"). */
import { describe, expect, it } from 'vitest';
import { createDevice } from '../../src/index.js';
import { typedError } from './property.js';

describe('hardening: sizes on WebGPU', () => {
  it('a device held to a small maxBufferSize refuses a full() at once and fills what fits', async () => {
    const small = await createDevice({ backend: 'webgpu', limits: { maxBufferSize: 2 ** 16 } });
    const error = typedError(() => small.full([2 ** 14 + 1], 1), ['OUT_OF_MEMORY']);
    expect(error?.message).toMatch(/maxBufferSize 65536/);
    const t = small.full([2 ** 14], 7, 'i32');
    const values = await t.read();
    expect(values.length).toBe(2 ** 14);
    expect(values.every((v) => v === 7)).toBe(true);
    t.dispose();
  });
});
