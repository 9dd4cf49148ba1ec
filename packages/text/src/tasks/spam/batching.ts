/**
 * text/spam's batches: an email's tokens as [CLS] ... [SEP] windows, padded rows with the tokenizer-style
 * attention mask, units (one window, or all of an email's windows) and length-grouped epochs.
 */
import type { Device, Tensor } from '@multihead/core';
import { seededShuffle } from '../../data/split.js';
import type { Bert, BertBatch } from '../../models/bert.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';

/**
 * A text's token ids cut into at most `windows` consecutive windows, each [CLS] ... [SEP] of at most
 * maxTokens ids (one window is the text truncated to maxTokens). An empty text gives one [CLS] [SEP].
 */
export function encodeWindows(
  tokenizer: Tokenizer,
  text: string,
  maxTokens: number,
  windows: number,
): Int32Array[] {
  const ids = tokenizer.encode(text, { addSpecialTokens: false }).ids;
  const [cls, sep, width] = [tokenizer.clsId!, tokenizer.sepId!, maxTokens - 2];
  const out: Int32Array[] = [];
  for (let start = 0; out.length < windows && (start < ids.length || out.length === 0); start += width) {
    const piece = ids.slice(start, start + width);
    const row = new Int32Array(piece.length + 2);
    row[0] = cls;
    row.set(piece, 1);
    row[row.length - 1] = sep;
    out.push(row);
  }
  return out;
}

/** Rows of ids padded to the longest (right padding, pad id), with the tokenizer-style attention mask. */
export function padBatch(rows: readonly Int32Array[], padId: number): BertBatch {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  const attentionMask = new Uint8Array(rows.length * T);
  rows.forEach((r, b) => {
    ids.set(r, b * T);
    attentionMask.fill(1, b * T, b * T + r.length);
  });
  return { ids, attentionMask, shape: [rows.length, T] };
}

/**
 * What one prediction reads: a single window ('separate') or all of an email's windows ('pooled').
 * Units of a batch are padded to the same number of windows with empty (all padding) rows.
 */
export type Unit = readonly Int32Array[];

export function unitBatch(units: readonly Unit[], padId: number): { batch: BertBatch; windows: number } {
  const windows = Math.max(...units.map((u) => u.length));
  const empty = new Int32Array(0);
  const rows = units.flatMap((u) => [...u, ...Array<Int32Array>(windows - u.length).fill(empty)]);
  return { batch: padBatch(rows, padId), windows };
}

/** Total tokens of a unit (batches group units of similar size). */
export const unitTokens = (u: Unit) => u.reduce((n, w) => n + w.length, 0);

/**
 * Logits [units, 2] from the encoder's output over a unit batch: hidden [U·W, T, C] and its mask [U·W, T]
 * are the same tokens as [U, W·T, C] and [U, W·T], so the pooling runs over all windows of a unit.
 */
export function classifyUnits(
  model: Bert,
  hidden: Tensor,
  mask: Tensor | undefined,
  windows: number,
): Tensor {
  const [rows, T, C] = hidden.shape as [number, number, number];
  if (windows === 1) return model.classify(hidden, mask);
  const units = rows / windows;
  return model.classify(hidden.reshape([units, windows * T, C]), mask?.reshape([units, windows * T]));
}

/**
 * One epoch of batches, grouped by length (Hugging Face `group_by_length`): shuffle, sort each window
 * of 50 batches by length, cut, shuffle the batches. Rows of a batch then have similar lengths, so most
 * batches of long emails carry no padding and need no attention mask.
 */
export function lengthGroupedBatches(
  lengths: readonly number[],
  batchSize: number,
  seed: number,
): number[][] {
  const order = seededShuffle(
    Array.from({ length: lengths.length }, (_, i) => i),
    seed,
  );
  const batches: number[][] = [];
  const window = batchSize * 50;
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengths[b]! - lengths[a]!);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  return seededShuffle(batches, seed + 1);
}

/** Device tensors of a batch; the mask only when some row is padded (a mask costs time in attention). */
export function batchTensors(device: Device, batch: BertBatch): { ids: Tensor; mask: Tensor | undefined } {
  const [B, T] = batch.shape;
  const ids = device.tensor(batch.ids, [B, T]);
  const padded = batch.attentionMask.includes(0);
  return { ids, mask: padded ? device.tensor(batch.attentionMask, [B, T]) : undefined };
}
