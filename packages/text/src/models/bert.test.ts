/**
 * BERT on the CPU backend: shapes, the key padding mask, a tiny model fitting a tiny labeled set, the
 * masked-LM corruption statistics, and the state_dict round trip. (Gradients of every layer are checked
 * in core.)
 */
import { createDevice, type Device, io, nn, noGrad, optim, type Tensor, tidy, train } from '@multihead/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainWordPieceTokenizer } from '../tokenizers/wordpiece-trainer.js';
import { Bert, type BertBatch, type BertConfig, maskTokens } from './bert.js';

let device: Device;
beforeAll(async () => {
  device = await createDevice({ backend: 'cpu' });
});

const tiny: BertConfig = {
  vocabSize: 40,
  maxPositions: 16,
  dModel: 16,
  nHead: 2,
  nLayer: 2,
  dimFeedforward: 32,
  dropout: 0,
  numLabels: 3,
  padId: 0,
  seed: 7,
};

/** [B, T] ids with rows of the given lengths: [CLS]=2 ... [SEP]=3, then [PAD]=0. */
function batchOf(lengths: number[], T: number, fill = (b: number, t: number) => 5 + ((b * 7 + t * 3) % 30)) {
  const ids = new Int32Array(lengths.length * T);
  const attentionMask = new Uint8Array(lengths.length * T);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = t === 0 ? 2 : t === n - 1 ? 3 : fill(b, t);
      attentionMask[b * T + t] = 1;
    }
  });
  return { ids, attentionMask, shape: [lengths.length, T] as [number, number] };
}

const read = async (t: Tensor) => {
  const v = await t.read();
  t.dispose();
  return v as Float32Array;
};

describe('Bert', () => {
  it('encodes to [B, T, C] and classifies to [B, numLabels]; the MLM head gives [B, T, V]', async () => {
    const model = new Bert(device, { ...tiny, mlmHead: true });
    const { ids, attentionMask } = batchOf([8, 5, 3], 8);
    const [idsT, maskT] = [device.tensor(ids, [3, 8]), device.tensor(attentionMask, [3, 8])];
    const shapes = noGrad(() => [
      model.encode(idsT, maskT),
      model.forward(idsT, maskT),
      model.mlmLogits(idsT, maskT),
    ]);
    expect(shapes.map((t) => t.shape)).toEqual([
      [3, 8, 16],
      [3, 3],
      [3, 8, 40],
    ]);
    for (const t of [...shapes, idsT, maskT]) t.dispose();
    expect(() => model.forward(device.tensor(new Int32Array(17), [1, 17]))).toThrow(/maxPositions 16/);
    expect(() => new Bert(device, { ...tiny, dModel: 15 })).toThrow(/multiple of nHead/);
    model.dispose();
  });

  it('masks padded keys: changing the padding leaves [CLS] as it was', async () => {
    const model = new Bert(device, tiny);
    const T = 10;
    const a = batchOf([10, 4, 7], T);
    const b = { ...a, ids: Int32Array.from(a.ids, (id, i) => (a.attentionMask[i] ? id : 5 + (i % 30))) };
    const cls = (batch: typeof a, masked: boolean) =>
      noGrad(() =>
        tidy(() => {
          const ids = device.tensor(batch.ids, [3, T]);
          const hidden = model.encode(ids, masked ? device.tensor(batch.attentionMask, [3, T]) : undefined);
          return hidden.slice(1, 0, 1).contiguous(); // [B, 1, C]
        }),
      );
    const [withA, withB] = [await read(cls(a, true)), await read(cls(b, true))];
    for (let i = 0; i < withA.length; i++) expect(withB[i]).toBeCloseTo(withA[i]!, 5);
    // without the mask the padding does change the padded rows' [CLS] (so the check above means something)
    const [openA, openB] = [await read(cls(a, false)), await read(cls(b, false))];
    const rowDiff = (row: number) =>
      Math.max(
        ...Array.from({ length: 16 }, (_, c) => Math.abs(openA[row * 16 + c]! - openB[row * 16 + c]!)),
      );
    expect(rowDiff(0)).toBe(0); // row 0 has no padding
    expect(rowDiff(1)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it.each(['mean', 'max'] as const)(
    '%s pooling reads only real tokens: longer padding leaves the logits as they were',
    async (pooling) => {
      const model = new Bert(device, { ...tiny, pooling });
      const logits = (T: number) => {
        const { ids, attentionMask } = batchOf([6, 3], T);
        return noGrad(() =>
          tidy(() => model.forward(device.tensor(ids, [2, T]), device.tensor(attentionMask, [2, T]))),
        );
      };
      const [short, long] = [await read(logits(6)), await read(logits(12))];
      for (let i = 0; i < short.length; i++) expect(long[i]).toBeCloseTo(short[i]!, 5);
      // pooling over the whole row (no mask) does see the padding
      const open = await read(
        noGrad(() => tidy(() => model.forward(device.tensor(batchOf([6, 3], 12).ids, [2, 12])))),
      );
      expect(Math.max(...Array.from(open, (v, i) => Math.abs(v - long[i]!)))).toBeGreaterThan(1e-4);
      model.dispose();
    },
  );

  it('fits 16 labeled sentences to 100% in a few seconds', async () => {
    const animals = ['the cat sleeps on the mat', 'a dog barks at night', 'the horse runs in the field'];
    const machines = [
      'the car needs new tires',
      'a truck drives on the road',
      'the train leaves the station',
    ];
    const pick = (list: string[], i: number) => `${list[i % 3]} ${i % 2 ? 'today' : 'again'}`;
    const sentences = Array.from({ length: 16 }, (_, i) => pick(i % 2 ? machines : animals, i >> 1));
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 2);
    const tokenizer = trainWordPieceTokenizer(sentences, { vocabSize: 80, minFrequency: 1 });
    const enc = tokenizer.encodeBatch(sentences);
    const [B, T] = enc.shape;
    const model = new Bert(device, {
      ...tiny,
      maxPositions: T,
      vocabSize: tokenizer.vocabSize,
      padId: tokenizer.padId!,
      numLabels: 2,
      dropout: 0.1,
    });
    const opt = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
    const ids = device.tensor(enc.ids, [B, T]);
    const mask = device.tensor(enc.attentionMask, [B, T]);
    const targets = device.tensor(labels, [B]);
    const summary = await train({
      optimizer: opt,
      steps: 60,
      batch: () => null,
      loss: () => nn.crossEntropy(model.forward(ids, mask), targets),
    });
    expect(summary.finalLoss).toBeLessThan(0.05);
    model.eval();
    const predicted = await noGrad(() => tidy(() => model.forward(ids, mask))).read();
    const right = Array.from(labels).filter(
      (y, i) => (predicted[2 * i + 1]! > predicted[2 * i]! ? 1 : 0) === y,
    );
    expect(right.length).toBe(16);
    for (const t of [ids, mask, targets]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it('masks about 15% of real tokens, 80/10/10, never padding or special tokens', () => {
    const T = 64;
    const lengths = Array.from({ length: 300 }, (_, b) => 16 + ((b * 37) % 49));
    const batch: BertBatch = batchOf(lengths, T, (b, t) => 5 + ((b * 131 + t * 17) % 995));
    batch.ids[5] = 1; // an [UNK] in the text: special, never chosen
    const opts = { maskId: 4, specialIds: [0, 1, 2, 3], vocabSize: 1000, seed: 3 };
    const { inputIds, labels } = maskTokens(batch, opts);
    let eligible = 0;
    let chosen = 0;
    let masked = 0;
    let kept = 0;
    for (let i = 0; i < batch.ids.length; i++) {
      const special = batch.attentionMask[i] === 0 || batch.ids[i]! < 5;
      if (special) {
        expect(labels[i]).toBe(-100);
        expect(inputIds[i]).toBe(batch.ids[i]);
        continue;
      }
      eligible++;
      if (labels[i] === -100) {
        expect(inputIds[i]).toBe(batch.ids[i]);
        continue;
      }
      chosen++;
      expect(labels[i]).toBe(batch.ids[i]);
      if (inputIds[i] === 4) masked++;
      else if (inputIds[i] === batch.ids[i]) kept++;
      else expect(inputIds[i]).toBeGreaterThanOrEqual(5); // random replacements are ordinary tokens
    }
    expect(chosen / eligible).toBeGreaterThan(0.14);
    expect(chosen / eligible).toBeLessThan(0.16);
    expect(masked / chosen).toBeGreaterThan(0.77);
    expect(masked / chosen).toBeLessThan(0.83);
    expect(kept / chosen).toBeGreaterThan(0.08); // 10%, plus the rare random draw of the same token
    expect(kept / chosen).toBeLessThan(0.12);
    expect((chosen - masked - kept) / chosen).toBeGreaterThan(0.08);
    // the same seed gives the same choice; another seed another one
    expect(maskTokens(batch, opts).inputIds).toEqual(inputIds);
    expect(maskTokens(batch, { ...opts, seed: 4 }).inputIds).not.toEqual(inputIds);
  });

  it('the MLM loss starts near ln(V) and scores only the masked positions', async () => {
    const model = new Bert(device, { ...tiny, mlmHead: true });
    const batch = batchOf([12, 9, 5], 12);
    const loss = await read(
      model.mlmLoss(batch, { maskId: 4, specialIds: [0, 1, 2, 3], vocabSize: 40, seed: 1 }),
    );
    expect(Math.abs(loss[0]! - Math.log(40))).toBeLessThan(0.3); // N(0, 0.02) weights: near-uniform logits
    // a batch of nothing but [CLS] [SEP] has nothing to mask
    expect(() =>
      model.mlmLoss(batchOf([2, 2], 2), { maskId: 4, specialIds: [0, 1, 2, 3], vocabSize: 40 }),
    ).toThrow(/no token that can be masked/);
    const plain = new Bert(device, tiny);
    expect(() => plain.mlmLoss(batch, { maskId: 4, specialIds: [], vocabSize: 40 })).toThrow(
      /without the MLM head/,
    );
    plain.dispose();
    model.dispose();
  });

  it('round-trips its state_dict through safetensors: identical logits', async () => {
    const model = new Bert(device, { ...tiny, mlmHead: true });
    const names = Object.keys(model.stateDict());
    for (const name of [
      'embeddings.word_embeddings.weight',
      'embeddings.position_embeddings.weight',
      'embeddings.LayerNorm.weight',
      'encoder.layers.1.self_attn.in_proj_weight',
      'encoder.layers.1.self_attn.out_proj.bias',
      'encoder.layers.0.linear1.weight',
      'encoder.layers.0.norm2.bias',
      'pooler.dense.weight',
      'classifier.weight',
      'mlm_head.dense.weight',
      'mlm_head.LayerNorm.bias',
      'mlm_head.decoder.weight',
      'mlm_head.decoder.bias',
    ]) {
      expect(names).toContain(name);
    }
    // the pad row starts at zero; the decoder shares the word embedding
    const word = await model.embeddings.wordEmbeddings.weight.read();
    expect(Array.from(word.slice(0, 16)).every((v) => v === 0)).toBe(true);
    expect(model.mlmHead!.decoder.weight).toBe(model.embeddings.wordEmbeddings.weight);

    const bytes = await io.checkpointBytes({ model: model.stateDict(), step: 0 });
    const copy = new Bert(device, { ...tiny, mlmHead: true, seed: 99 });
    copy.loadStateDict(io.loadCheckpoint(bytes).model);
    const { ids, attentionMask } = batchOf([9, 6], 9);
    const logits = (m: Bert) =>
      noGrad(() => tidy(() => m.forward(device.tensor(ids, [2, 9]), device.tensor(attentionMask, [2, 9]))));
    model.eval();
    copy.eval();
    expect(Array.from(await read(logits(copy)))).toEqual(Array.from(await read(logits(model))));
    model.dispose();
    copy.dispose();
  });
});
