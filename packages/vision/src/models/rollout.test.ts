/** Attention rollout on small cases computed by hand (the worked numbers are in the comments). */
import { describe, expect, it } from 'vitest';
import { attentionRollout } from './rollout.js';

const I3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

describe('attentionRollout', () => {
  it('averages heads, adds the identity, renormalizes and multiplies later layers on the left', () => {
    // T = 3 (class token + a 1 × 2 grid), H = 2, two layers, B = 2.
    // image 0, layer 1: heads I and [[0, .5, .5], e1, e2] -> mean [[.5, .25, .25], e1, e2]
    //   + I, rows renormalized -> Â1 = [[.75, .125, .125], e1, e2]
    // image 0, layer 2: both heads [[0, 1, 0], [1, 0, 0], e2] -> Â2 = [[.5, .5, 0], [.5, .5, 0], e2]
    // R = Â2 · Â1, row 0 = .5 · [.75, .125, .125] + .5 · [0, 1, 0] = [.375, .5625, .0625] -> patches [.5625, .0625]
    // (the other order, Â1 · Â2, would give [.4375, .125])
    // image 1: identity heads in both layers -> R = I -> patches [0, 0]
    const layer1 = [...I3, 0, 0.5, 0.5, 0, 1, 0, 0, 0, 1, ...I3, ...I3];
    const swap = [0, 1, 0, 1, 0, 0, 0, 0, 1];
    const layer2 = [...swap, ...swap, ...I3, ...I3];
    const shape = [2, 2, 3, 3];
    const r = attentionRollout(
      [
        { data: layer1, shape },
        { data: layer2, shape },
      ],
      [1, 2],
    );
    expect(r.shape).toEqual([2, 1, 2]);
    expect(Array.from(r.data)).toEqual([0.5625, 0.0625, 0, 0]);
  });

  it('reads the mean of the rows when there is no class token (global average pooling)', () => {
    // T = 2 = a 2 × 1 grid, H = 1: A = [[.2, .8], [.6, .4]] -> Â = [[.6, .4], [.3, .7]] -> mean of rows [.45, .55]
    const r = attentionRollout([{ data: [0.2, 0.8, 0.6, 0.4], shape: [1, 1, 2, 2] }], [2, 1]);
    expect(r.shape).toEqual([1, 2, 1]);
    expect(r.data[0]).toBeCloseTo(0.45, 7);
    expect(r.data[1]).toBeCloseTo(0.55, 7);
  });

  it('names the problem with maps that do not fit', () => {
    const map = { data: new Float32Array(9), shape: [1, 1, 3, 3] };
    expect(() => attentionRollout([], [1, 2])).toThrow(/maps is empty/);
    expect(() => attentionRollout([map], [2, 2])).toThrow(/maps have 3 tokens; a 2 × 2 grid has 4 \(or 5/);
    expect(() => attentionRollout([map, { data: new Float32Array(8), shape: [1, 1, 3, 3] }], [1, 2])).toThrow(
      /map 1 is \[1, 1, 3, 3\] with 8 values; expected \[1, 1, 3, 3\]/,
    );
    expect(() => attentionRollout([map], [0, 2])).toThrow(/grid must be two positive integers/);
  });
});
