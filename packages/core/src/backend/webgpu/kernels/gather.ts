/**
 * indexSelect / embedding and their adjoint on WebGPU. A kernel cannot throw: an out-of-range index
 * writes zeros and records (op, index, bound, position) in the device's error flags, which the next
 * `read()` throws as INDEX_OUT_OF_RANGE (CUDA's device-side asserts, with the value).
 */
import type { DType } from '../../../dtype.js';
import type { KernelSignatures } from '../../../kernels/signatures.js';
import { DEVICE_ERROR_OPS, type KernelSpec } from '../runtime.js';
import { perItemMain } from '../shader.js';

type Sig = KernelSignatures;

export function gatherSpec(dtype: DType, idxDtype: DType): KernelSpec {
  return {
    key: `gather:${dtype}:${idxDtype}`,
    uniforms: [
      ['n', 'u32'],
      ['inner', 'u32'],
      ['count', 'u32'],
      ['axis_len', 'u32'],
      ['op', 'u32'],
      ['idx_off', 'u32'],
      ['x_off', 'u32'],
    ],
    operands: [
      { name: 'x', dtype },
      { name: 'idx', dtype: idxDtype },
      { name: 'out', dtype, write: true },
      { name: 'flags', dtype: 'u32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perItemMain('i', 'u.n')}
  let inner = i % u.inner;
  let p = (i / u.inner) % u.count;
  let outer = i / (u.inner * u.count);
  let j = i32(idx_ld(u.idx_off + p));
  if (j < 0 || u32(j) >= u.axis_len) {
    out_st(i, ${dtype === 'f32' ? '0.0' : `${dtype === 'i32' ? 'i32' : 'u32'}(0)`});
    if (flags_ld(0u) == 0u) { flags_st(0u, u.op); flags_st(1u, u32(j)); flags_st(2u, u.axis_len); flags_st(3u, p); }
    return;
  }
  out_st(i, x_ld(u.x_off + (outer * u.axis_len + u32(j)) * u.inner + inner));
}`,
  };
}

/** Elements of the inner dims one invocation of `indexAdd` sums (private accumulators). */
const INDEX_ADD_CHUNK = 16;

export function indexAddSpec(idxDtype: DType): KernelSpec {
  return {
    key: `indexAdd:${idxDtype}`,
    uniforms: [
      ['n', 'u32'],
      ['inner', 'u32'],
      ['chunks', 'u32'],
      ['count', 'u32'],
      ['axis_len', 'u32'],
      ['idx_off', 'u32'],
      ['src_off', 'u32'],
    ],
    operands: [
      { name: 'src', dtype: 'f32' },
      { name: 'idx', dtype: idxDtype },
      { name: 'out', dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body: `
${perItemMain('i', 'u.n')}
  let chunk = i % u.chunks;
  let j = (i / u.chunks) % u.axis_len;
  let outer = i / (u.chunks * u.axis_len);
  let first = chunk * ${INDEX_ADD_CHUNK}u;
  let width = min(${INDEX_ADD_CHUNK}u, u.inner - first);
  var acc: array<f32, ${INDEX_ADD_CHUNK}>;
  for (var p = 0u; p < u.count; p++) {
    if (u32(idx_ld(u.idx_off + p)) != j) { continue; }
    let base = u.src_off + (outer * u.count + p) * u.inner + first;
    for (var e = 0u; e < width; e++) { acc[e] += src_ld(base + e); }
  }
  let dst = (outer * u.axis_len + j) * u.inner + first;
  for (var e = 0u; e < width; e++) { out_st(dst + e, acc[e]); }
}`,
  };
}

export function gatherWebGpu({ op, x, indices, out, outer, axisLen, inner }: Sig['Gather']['args']): void {
  const gpu = x.device.gpu!;
  const count = indices.size;
  const n = outer * count * inner;
  const values = {
    n,
    inner,
    count,
    axis_len: axisLen,
    op: DEVICE_ERROR_OPS.indexOf(op),
    idx_off: indices.offset,
    x_off: x.offset,
  };
  const buffers = [x.storage.buffer!, indices.storage.buffer!, out.storage.buffer!, gpu.errorFlags];
  gpu.run(
    gatherSpec(x.dtype === 'bool' ? 'u32' : x.dtype, indices.dtype),
    buffers,
    values,
    Math.ceil(n / 64),
  );
}

export function indexAddWebGpu({ src, indices, out, outer, axisLen, inner }: Sig['IndexAdd']['args']): void {
  const count = indices.size;
  const chunks = Math.ceil(inner / INDEX_ADD_CHUNK);
  const n = outer * axisLen * chunks;
  if (n === 0 || count === 0) return;
  const values = { n, inner, chunks, count, axis_len: axisLen, idx_off: indices.offset, src_off: src.offset };
  const buffers = [src.storage.buffer!, indices.storage.buffer!, out.storage.buffer!];
  src.device.gpu!.run(indexAddSpec(indices.dtype), buffers, values, Math.ceil(n / 64));
}
