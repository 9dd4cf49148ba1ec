/**
 * graph/protein's baseline: a unigram residue model per family, P(residue | family), with add-one
 * smoothing over the residues the generator can emit (and the end of the sequence, which the generator
 * also predicts). It knows each family's composition and nothing about order: what a conditional
 * generator has to beat.
 */
import { invalidArgument } from '../errors.js';

export class FamilyUnigram {
  private constructor(
    /** [families, symbols] log-probabilities. */
    private readonly logProbs: Float64Array,
    readonly symbols: number,
  ) {}

  /**
   * `sequences[f]` are family f's training sequences as symbol ids below `symbols` (the end symbol
   * included where it is to be scored).
   */
  static fit(sequences: readonly (readonly ArrayLike<number>[])[], symbols: number): FamilyUnigram {
    if (!Number.isInteger(symbols) || symbols < 1)
      invalidArgument(`FamilyUnigram.fit: symbols must be a positive integer, got ${symbols}`);
    const logProbs = new Float64Array(sequences.length * symbols);
    sequences.forEach((family, f) => {
      const counts = new Float64Array(symbols).fill(1);
      let total = symbols;
      for (const seq of family) {
        for (let i = 0; i < seq.length; i++) {
          const s = seq[i]!;
          if (!Number.isInteger(s) || s < 0 || s >= symbols)
            invalidArgument(`FamilyUnigram.fit: symbol ${s} of family ${f} is outside [0, ${symbols})`);
          counts[s]! += 1;
          total += 1;
        }
      }
      for (let s = 0; s < symbols; s++) logProbs[f * symbols + s] = Math.log(counts[s]! / total);
    });
    return new FamilyUnigram(logProbs, symbols);
  }

  /** Summed negative log-likelihood (nats) of `ids` under family `family`, and how many were scored. */
  nll(family: number, ids: ArrayLike<number>): { nll: number; count: number } {
    const families = this.logProbs.length / this.symbols;
    if (!Number.isInteger(family) || family < 0 || family >= families)
      invalidArgument(`FamilyUnigram.nll: family ${family} is outside [0, ${families})`);
    let nll = 0;
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i]!;
      if (!Number.isInteger(s) || s < 0 || s >= this.symbols)
        invalidArgument(`FamilyUnigram.nll: ids[${i}] = ${s} is outside [0, ${this.symbols})`);
      nll -= this.logProbs[family * this.symbols + s]!;
    }
    return { nll, count: ids.length };
  }
}
