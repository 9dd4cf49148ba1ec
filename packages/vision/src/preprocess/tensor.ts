import type { Device, Tensor } from '@multihead/core';
import { describeType, invalidArgument } from './errors.js';
import type { ImageArray, ImageBatch } from './pixels.js';

/** An image `[C, H, W]` or a batch `[B, C, H, W]` as an f32 tensor on `device`. */
export function imageTensor(device: Device, image: ImageArray | ImageBatch): Tensor {
  const where = 'imageTensor';
  if (typeof image !== 'object' || image === null || !(image.data instanceof Float32Array))
    invalidArgument(`${where}: image must be { data: Float32Array, shape }, got ${describeType(image)}`);
  if (!Array.isArray(image.shape) || (image.shape.length !== 3 && image.shape.length !== 4))
    invalidArgument(`${where}: shape must be [C, H, W] or [B, C, H, W], got ${JSON.stringify(image.shape)}`);
  return device.tensor(image.data, image.shape, { dtype: 'f32' });
}
