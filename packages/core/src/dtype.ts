import { fail } from './errors.js';

/** Element types. `bool` is stored as u32 on the GPU and as Uint8Array on the CPU; reads give Uint8Array. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32' | 'bool';

export type TypedArray = Float32Array | Int32Array | Uint32Array | Uint8Array | Uint16Array;

/** What `read()` returns for each dtype (f16 is widened to f32 on read). */
export type ReadArray<D extends DType> = D extends 'f32' | 'f16'
  ? Float32Array
  : D extends 'i32'
    ? Int32Array
    : D extends 'u32'
      ? Uint32Array
      : Uint8Array;

/** Host array type the CPU backend stores each dtype in (f16 is kept as f32 values rounded to half). */
export function cpuArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'f32':
    case 'f16':
      return new Float32Array(length);
    case 'i32':
      return new Int32Array(length);
    case 'u32':
      return new Uint32Array(length);
    case 'bool':
      return new Uint8Array(length);
  }
}

/**
 * A host array for the CPU backend. Past the engine's typed-array limit (2^32 elements in Node 20's
 * V8) or the memory it can get, the constructor throws a RangeError at once: that is OUT_OF_MEMORY.
 */
export function hostArray(dtype: DType, length: number): TypedArray {
  try {
    return cpuArray(dtype, length);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return fail(
      'OUT_OF_MEMORY',
      `a ${dtype} tensor of ${length} elements does not fit a host typed array (${error.message})`,
    );
  }
}

/** Bytes per element in a GPU buffer. */
export function gpuBytes(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** WGSL scalar type that holds this dtype in storage. */
export function wgslType(dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return 'f32';
    case 'f16':
      return 'f16';
    case 'i32':
      return 'i32';
    case 'u32':
    case 'bool':
      return 'u32';
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16';
}

export function dtypeOfArray(data: ArrayLike<number>): DType {
  if (data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data)) return 'f32';
  if (data instanceof Int32Array || data instanceof Int16Array || data instanceof Int8Array) return 'i32';
  if (data instanceof Uint32Array || data instanceof Uint16Array) return 'u32';
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return 'bool';
  return fail('DTYPE_MISMATCH', `tensor: cannot infer a dtype from ${Object.prototype.toString.call(data)}`);
}

export const DTYPES: readonly DType[] = ['f32', 'f16', 'i32', 'u32', 'bool'];

export function checkDType(name: string, value: unknown): DType {
  if (typeof value === 'string' && (DTYPES as readonly string[]).includes(value)) return value as DType;
  return fail(
    'DTYPE_MISMATCH',
    `${name}: unknown dtype ${JSON.stringify(value)}; expected one of ${DTYPES.join(', ')}`,
  );
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** IEEE binary16 bits of a number, round to nearest even (for f16 uploads). */
export function toHalfBits(value: number): number {
  f32buf[0] = value;
  const x = u32buf[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  e = half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0);
  return sign | e;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
