/**
 * The engine behind every elementwise op: an op is a WGSL expression with its TypeScript twin
 * (`MapOp`), run by each backend's `Map` kernel over broadcast strides (kernels/map.ts), so views need
 * no copies and one pipeline serves every shape.
 */
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { type MapOp, mapInto } from '../kernels/map.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

export { type MapOp, mapInto } from '../kernels/map.js';

/** Checks that all tensors live on one device; names them in the error. */
export function sameDevice(op: string, tensors: readonly Tensor[], names: readonly string[]): Device {
  const device = tensors[0]!.device;
  tensors.forEach((t, k) => {
    t.storage; // throws a clear error for a disposed tensor
    if (t.device !== device) {
      fail(
        'DEVICE_MISMATCH',
        `${op}: ${names[k]} is on ${t.device.describe()} but ${names[0]} is on ${device.describe()}; move one with await tensor.to(device)`,
      );
    }
  });
  return device;
}

/** Allocates the output and applies `op` (which writes every element: no zero fill first). */
export function map(op: MapOp, inputs: readonly Tensor[], shape: Shape, outDtype: DType): Tensor {
  const out = inputs[0]!.device.empty(shape, outDtype, false);
  mapInto(op, inputs, out);
  return out;
}
