/**
 * Masked-language-model corruption as BERT (Devlin et al. 2019, §3.1) and ESM (Rives et al. 2021) train:
 * each non-special token is chosen with probability 0.15; a chosen token becomes `<mask>` 80% of the
 * time, a random residue 10% and stays itself 10%. Labels hold the original id at chosen positions and
 * `ignoreIndex` (-100, PyTorch's cross-entropy default) elsewhere. Random replacements are drawn from the
 * 20 standard amino acids, not the whole vocabulary as Hugging Face's collator does: a random `<eos>` or
 * gap is no plausible residue. Seeded (core's mulberry32 stream): the same seed masks the same way.
 */
import { seededUniform } from '@multihead/core';
import { describeType, invalidArgument } from '../errors.js';
import { type ProteinTokenizer, STANDARD_AMINO_ACIDS } from './protein-tokenizer.js';

export interface MaskingOptions {
  seed: number;
  /** Chance that a token is chosen. Default 0.15. */
  probability?: number;
  /** Of the chosen: share replaced by `<mask>` (default 0.8) and by a random residue (default 0.1). */
  maskFraction?: number;
  randomFraction?: number;
  /** Label of positions that are not predicted. Default -100. */
  ignoreIndex?: number;
}

export interface MaskedTokens {
  /** The corrupted ids (a new array). */
  inputIds: Int32Array;
  /** Original ids at chosen positions, ignoreIndex elsewhere. */
  labels: Int32Array;
}

/** Corrupts a batch of ids (any shape, e.g. `encodeBatch(...).inputIds`); specials are never touched. */
export function maskTokens(
  ids: Int32Array,
  tokenizer: ProteinTokenizer,
  options: MaskingOptions,
): MaskedTokens {
  const where = 'maskTokens';
  if (!(ids instanceof Int32Array))
    invalidArgument(`${where}: ids must be an Int32Array, got ${describeType(ids)}`);
  if (typeof options !== 'object' || options === null || !Number.isInteger(options.seed)) {
    invalidArgument(`${where}: options.seed must be an integer, got ${describeType(options?.seed)}`);
  }
  const probability = fraction(options.probability, 0.15, 'probability', where);
  const maskFraction = fraction(options.maskFraction, 0.8, 'maskFraction', where);
  const randomFraction = fraction(options.randomFraction, 0.1, 'randomFraction', where);
  if (maskFraction + randomFraction > 1) {
    invalidArgument(
      `${where}: maskFraction + randomFraction must be at most 1, got ${maskFraction + randomFraction}`,
    );
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex))
    invalidArgument(`${where}: ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
  const residueIds = [...STANDARD_AMINO_ACIDS].map((residue) => tokenizer.tokenToId(residue)!);
  const random = seededUniform(options.seed);
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(ignoreIndex);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= tokenizer.vocabSize) {
      invalidArgument(`${where}: ids[${i}] = ${id} is outside the vocabulary [0, ${tokenizer.vocabSize})`);
    }
    // three draws per position whatever happens, so position i's fate does not depend on earlier ones
    const choose = random();
    const action = random();
    const pick = random();
    if (tokenizer.specialIds.has(id) || choose >= probability) continue;
    labels[i] = id;
    if (action < maskFraction) inputIds[i] = tokenizer.maskId;
    else if (action < maskFraction + randomFraction) {
      inputIds[i] = residueIds[Math.floor(pick * residueIds.length)]!;
    }
  }
  return { inputIds, labels };
}

function fraction(value: number | undefined, fallback: number, name: string, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    invalidArgument(`${where}: ${name} must be a number in [0, 1], got ${String(value)}`);
  }
  return value;
}
