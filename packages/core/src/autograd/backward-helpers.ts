/** Small helpers the differentiable ops share. */
import type { Tensor } from '../tensor.js';

export type Operand = Tensor | number;

/** Disposes the temporaries of a backward step and returns its result. */
export function using<T>(temps: readonly (Tensor | null | undefined)[], result: T): T {
  for (const t of temps) t?.dispose();
  return result;
}
