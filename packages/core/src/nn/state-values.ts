/**
 * Checks one entry of a state dict against the tensor it would load into, before anything is copied
 * (`Module.loadStateDict` is all or nothing): null or foreign values, disposed tensors, tensors on
 * another device, shapes, host data of the wrong length, and host values the target dtype cannot
 * hold. Returns the problem as text, or null.
 */
import type { Device } from '../device.js';
import type { HostTensor } from '../io/safetensors.js';
import { fmt, sameShape, size } from '../shape.js';
import { Tensor } from '../tensor.js';

export type StateValue = Tensor | HostTensor;

const INT_RANGE: Record<string, [number, number]> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

export function isBigIntArray(data: unknown): data is BigInt64Array | BigUint64Array {
  return data instanceof BigInt64Array || data instanceof BigUint64Array;
}

/** Whether host data holds floats (copied into an integer tensor they truncate, as PyTorch's copy_). */
export function isFloatData(data: unknown): boolean {
  return data instanceof Float32Array || data instanceof Float64Array;
}

export function checkStateValue(name: string, value: unknown, target: Tensor, device: Device): string | null {
  if (value instanceof Tensor) {
    if (value.disposed) return `${name} is a disposed tensor`;
    if (value.device !== device)
      return `${name} is on another device (${value.device.describe()}); pass host tensors or tensors on this device`;
    if (!sameShape(value.shape, target.shape))
      return `mis-shaped: ${name} has shape ${fmt(value.shape)}; expected ${fmt(target.shape)}`;
    return null;
  }
  if (typeof value !== 'object' || value === null)
    return `${name} is ${value === null ? 'null' : typeof value}; expected a Tensor or a host tensor { dtype, shape, data }`;
  const host = value as Partial<HostTensor>;
  if (!Array.isArray(host.shape) || !host.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    return `${name} has no valid shape (got ${JSON.stringify(host.shape)})`;
  if (!sameShape(host.shape, target.shape))
    return `mis-shaped: ${name} has shape ${fmt(host.shape)}; expected ${fmt(target.shape)}`;
  const data = host.data as unknown;
  if (!ArrayBuffer.isView(data) || data instanceof DataView)
    return `${name} has no typed-array data (got ${Object.prototype.toString.call(data)})`;
  const values = data as unknown as ArrayLike<number | bigint>;
  if (values.length !== size(host.shape))
    return `${name} holds ${values.length} values for shape ${fmt(host.shape)} (${size(host.shape)} elements)`;
  const range = INT_RANGE[target.dtype];
  const big = isBigIntArray(data);
  const truncate = isFloatData(data);
  for (let i = 0; i < values.length; i++) {
    const raw = values[i]!;
    const v = big ? Number(raw) : (raw as number);
    if (big && BigInt(v) !== raw) return `${name}[${i}] = ${raw} is beyond 2^53 and would be rounded`;
    if (!range) continue;
    const t = truncate ? Math.trunc(v) : v;
    if (!(Number.isInteger(t) && t >= range[0] && t <= range[1]))
      return `${name}[${i}] = ${v} does not fit ${target.dtype} (integers in [${range[0]}, ${range[1]}])`;
  }
  return null;
}
