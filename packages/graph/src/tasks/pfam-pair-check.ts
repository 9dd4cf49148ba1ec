/**
 * What the co-variation pair bias buys, measured on held-out sequences: the masked-LM loss of the
 * aligned test sequences' first windows (the same ESM masking, seeded) with their family's co-variation
 * as pair bias and without it. Co-variation comes from the training rows only (pfam-data.ts); a test
 * row's alignment maps its residues onto the columns.
 */
import { noGrad, tidy } from '@multihead/core';
import { type ColumnCovariation, residueColumns } from '../models/covariation.js';
import type { ProteinEncoder } from '../models/protein-encoder.js';
import { maskTokens } from '../preprocess/protein-masking.js';
import type { ProteinTokenizer } from '../preprocess/protein-tokenizer.js';
import type { LabelledSequence } from './pfam-data.js';
import { type SequenceWindow, windowInputs } from './protein-classifier.js';

export interface PairBiasCheck {
  /** Aligned test sequences whose family has co-variation. */
  sequences: number;
  maskedResidues: number;
  /** Mean masked-LM cross-entropy (nats) with the co-variation bias, and with none. */
  mlmLossWithCovariation: number | null;
  mlmLossWithout: number | null;
}

export async function mlmLossOf(
  model: ProteinEncoder,
  tokenizer: ProteinTokenizer,
  test: readonly LabelledSequence[],
  covariation: readonly (ColumnCovariation | null)[],
  window: number,
  seed: number,
  maxBatch = 32,
): Promise<PairBiasCheck> {
  const windows: SequenceWindow[] = test.flatMap((s) => {
    const values = covariation[s.label];
    if (!values || s.aligned === undefined) return [];
    const length = Math.min(window, s.sequence.length);
    return [
      { sequence: s.sequence, start: 0, length, covariation: { values, columns: residueColumns(s.aligned) } },
    ];
  });
  const totals = { with: 0, without: 0, masked: 0 };
  for (let i = 0; i < windows.length; i += maxBatch) {
    const part = windows.slice(i, i + maxBatch);
    const inputs = windowInputs(tokenizer, part);
    const masked = maskTokens(inputs.ids, tokenizer, { seed: seed * 31 + i });
    const count = masked.labels.filter((l) => l !== -100).length;
    if (count === 0) continue;
    for (const withCovariation of [true, false]) {
      const { covariation: pairs, ...rest } = inputs;
      const loss = noGrad(() =>
        tidy(() => {
          const { hidden } = model.encode({
            ...rest,
            ids: masked.inputIds,
            ...(withCovariation && pairs ? { covariation: pairs } : {}),
          });
          return model.maskedLmLoss(hidden, masked.labels);
        }),
      );
      totals[withCovariation ? 'with' : 'without'] += (await loss.read())[0]! * count;
      loss.dispose();
    }
    totals.masked += count;
  }
  const mean = (x: number) => (totals.masked === 0 ? null : x / totals.masked);
  return {
    sequences: windows.length,
    maskedResidues: totals.masked,
    mlmLossWithCovariation: mean(totals.with),
    mlmLossWithout: mean(totals.without),
  };
}
