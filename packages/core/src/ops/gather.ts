/**
 * indexSelect / embedding: rows picked by an integer index tensor (PyTorch `torch.index_select`,
 * `F.embedding`). Out-of-range indices: the CPU backend throws at once; a GPU kernel cannot throw, so
 * it writes zeros, records the first bad index in the device's error flags, and the next `read()`
 * throws INDEX_OUT_OF_RANGE naming it (like CUDA's device-side asserts, but with the value).
 */
import { DEVICE_ERROR_OPS, type KernelSpec } from '../backend/webgpu.js';
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { fmt, normalizeAxis, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

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
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }
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

/** Picks entries of `x` along `axis` at `indices` (1-D or any shape: its shape replaces the axis). */
export function indexSelect(
  x: Tensor,
  axis: number,
  indices: Tensor,
  op: 'indexSelect' | 'embedding' = 'indexSelect',
): Tensor {
  const device = sameDevice(op, [x, indices], [op === 'embedding' ? 'weight' : 'x', 'indices']);
  if (indices.dtype !== 'i32' && indices.dtype !== 'u32') {
    fail('DTYPE_MISMATCH', `${op}: indices have dtype ${indices.dtype}; expected i32 or u32`);
  }
  const a = normalizeAxis(op, axis, x.rank);
  const axisLen = x.shape[a]!;
  const outer = size(x.shape.slice(0, a));
  const inner = size(x.shape.slice(a + 1));
  const count = indices.size;
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const xc = x.contiguous();
  const ic = indices.contiguous();
  const out = device.empty(outShape, x.dtype);
  try {
    const gpu = device.gpu;
    if (gpu) {
      const n = outer * count * inner;
      const values = {
        n,
        inner,
        count,
        axis_len: axisLen,
        op: DEVICE_ERROR_OPS.indexOf(op),
        idx_off: ic.offset,
        x_off: xc.offset,
      };
      const buffers = [xc.storage.buffer!, ic.storage.buffer!, out.storage.buffer!, gpu.errorFlags];
      gpu.run(
        gatherSpec(x.dtype === 'bool' ? 'u32' : x.dtype, indices.dtype),
        buffers,
        values,
        Math.ceil(n / 64),
      );
      return out;
    }
    const src = xc.storage.array!;
    const ids = ic.storage.array!;
    const dst = out.storage.array!;
    for (let p = 0; p < count; p++) {
      const j = ids[ic.offset + p]!;
      if (j < 0 || j >= axisLen) {
        fail(
          'INDEX_OUT_OF_RANGE',
          `${op}: index ${j} at position ${p} of indices ${fmt(indices.shape)} is out of range [0, ${axisLen})`,
        );
      }
    }
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < count; p++) {
        const from = xc.offset + (o * axisLen + ids[ic.offset + p]!) * inner;
        dst.set(src.subarray(from, from + inner), (o * count + p) * inner);
      }
    }
    return out;
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    xc.dispose();
    ic.dispose();
  }
}

/** Rows of `weight` [numEmbeddings, dim] for integer `ids` of any shape: [...ids.shape, dim]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  if (weight.rank !== 2)
    fail('SHAPE_MISMATCH', `embedding: weight must be [numEmbeddings, dim], got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, ids, 'embedding');
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
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = workgroupIndex(wg, nwg) * WG + li;
  if (i >= u.n) { return; }
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

/**
 * The adjoint of `indexSelect`: a tensor of `shape` with zeros, plus `src` (shaped as indexSelect's
 * output) added at the picked positions; repeated indices sum. Deterministic: each output row walks
 * the indices in order (no float atomics), so results do not change from run to run.
 */
export function indexAdd(shape: readonly number[], axis: number, indices: Tensor, src: Tensor): Tensor {
  const device = sameDevice('indexAdd', [src, indices], ['src', 'indices']);
  const a = normalizeAxis('indexAdd', axis, shape.length);
  const axisLen = shape[a]!;
  const outer = size(shape.slice(0, a));
  const inner = size(shape.slice(a + 1));
  const count = indices.size;
  const ic = indices.contiguous();
  const sc = src.contiguous();
  const out = device.zeros(shape, 'f32');
  try {
    const gpu = device.gpu;
    if (gpu) {
      const chunks = Math.ceil(inner / INDEX_ADD_CHUNK);
      const n = outer * axisLen * chunks;
      if (n > 0 && count > 0) {
        const values = { n, inner, chunks, count, axis_len: axisLen, idx_off: ic.offset, src_off: sc.offset };
        const buffers = [sc.storage.buffer!, ic.storage.buffer!, out.storage.buffer!];
        gpu.run(indexAddSpec(indices.dtype), buffers, values, Math.ceil(n / 64));
      }
      return out;
    }
    const s = sc.storage.array!;
    const ids = ic.storage.array!;
    const dst = out.storage.array!;
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < count; p++) {
        const j = ids[ic.offset + p]!;
        const from = sc.offset + (o * count + p) * inner;
        const to = (o * axisLen + j) * inner;
        for (let e = 0; e < inner; e++) dst[to + e]! += s[from + e]!;
      }
    }
    return out;
  } finally {
    ic.dispose();
    sc.dispose();
  }
}
