import { invalidArgument } from '../io/errors.js';

/** The layers an attention report covers: all of them, or the ones asked for (checked). */
export function attentionLayers(
  who: string,
  asked: readonly number[] | undefined,
  numLayers: number,
): number[] {
  const layers = asked ?? Array.from({ length: numLayers }, (_, i) => i);
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) {
      invalidArgument(`${who}: attention layer ${layer}; expected integers in [0, ${numLayers})`);
    }
  }
  return [...layers];
}
