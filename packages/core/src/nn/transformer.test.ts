/**
 * Transformer layers against torch.nn.TransformerEncoderLayer / DecoderLayer / TransformerEncoder
 * (tools/fixtures/gen_nn.py): outputs, input gradients and every parameter's gradient by PyTorch name.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import { gradcheck } from '../../test/gradcheck.js';
import { mul, nn, noGrad, sum, type Tensor, tidy } from '../index.js';

interface Case {
  name: string;
  kind: string;
  options: Record<string, unknown>;
  inputs: string[];
  grads: string[];
  state_dict: string[];
  is_causal?: boolean;
  config?: Record<string, unknown>;
}
const { cases, host } = loadFixture<Case>('nn.safetensors');
const byKind = (kind: string) => cases.filter((c) => c.kind === kind);

const { dev, cpu } = await getDevices();

const upload = (name: string, requiresGrad = false) => {
  const t = host(name);
  const x = dev.tensor(t.data as Float32Array | Uint8Array, t.shape, {
    dtype: t.dtype === 'BOOL' ? 'bool' : 'f32',
  });
  return requiresGrad ? x.requiresGrad_() : x;
};
const stateOf = (c: Case) => Object.fromEntries(c.state_dict.map((k) => [k, host(`${c.name}.sd.${k}`)]));

/** Layer options from the fixture's PyTorch options. */
function layerOptions(o: Record<string, unknown>): nn.TransformerLayerOptions {
  return {
    dModel: o.d_model as number,
    nHead: o.nhead as number,
    dimFeedforward: o.dim_feedforward as number,
    dropout: o.dropout as number,
    activation: o.activation as 'relu' | 'gelu',
    layerNormEps: o.layer_norm_eps as number,
    batchFirst: o.batch_first as boolean,
    normFirst: o.norm_first as boolean,
  };
}

/** loss = sum(out * gout); checks out, the input grads and every parameter grad against the fixture. */
async function checkCase(c: Case, layer: nn.Module, run: (inputs: Record<string, Tensor>) => Tensor) {
  expect(Object.keys(layer.stateDict())).toEqual(c.state_dict); // PyTorch's names, in PyTorch's order
  layer.loadStateDict(stateOf(c));
  const inputs = Object.fromEntries(c.inputs.map((k) => [k, upload(`${c.name}.${k}`, c.grads.includes(k))]));
  const gout = upload(`${c.name}.gout`);
  const out = run(inputs);
  expectClose(await out.read(), host(`${c.name}.out`).data as Float32Array, 2e-5, 2e-5, `${c.name} out`);
  const loss = tidy(() => sum(mul(out, gout)));
  loss.backward();
  for (const k of c.grads) {
    const g = inputs[k]!.grad;
    expect(g, `grad of ${k}`).not.toBeNull();
    expectClose(
      await g!.read(),
      host(`${c.name}.grad.${k}`).data as Float32Array,
      1e-4,
      1e-4,
      `${c.name} d/d${k}`,
    );
  }
  const params = layer.stateDict();
  for (const k of c.state_dict) {
    const g = params[k]!.grad;
    expect(g, `grad of ${k}`).not.toBeNull();
    expectClose(
      await g!.read(),
      host(`${c.name}.grad.sd.${k}`).data as Float32Array,
      1e-4,
      1e-4,
      `${c.name} d/d${k}`,
    );
  }
  for (const t of [...Object.values(inputs), gout, out, loss]) t.dispose();
}

describe('TransformerEncoderLayer matches torch.nn.TransformerEncoderLayer', () => {
  for (const c of byKind('transformer_encoder_layer')) {
    it(`${c.name}: out, d/dsrc and every parameter's grad`, async () => {
      const layer = new nn.TransformerEncoderLayer(dev, layerOptions(c.options));
      expect(layer.numParameters()).toBe(2224); // sum(p.numel() for p in layer.parameters()) in PyTorch
      await checkCase(c, layer, (x) => {
        const opts: nn.EncoderLayerForward = {};
        if (x.src_mask) opts.srcMask = x.src_mask;
        if (x.src_key_padding_mask) opts.srcKeyPaddingMask = x.src_key_padding_mask;
        return layer.forward(x.src!, opts);
      });
      layer.dispose();
    });
  }

  it('isCausal in the kernel gives what the causal src_mask gives', async () => {
    const c = cases.find((x) => x.name === 'encoder_pre_gelu_causal')!;
    const layer = new nn.TransformerEncoderLayer(dev, layerOptions(c.options));
    await checkCase({ ...c, inputs: ['src'] }, layer, (x) => layer.forward(x.src!, { isCausal: true }));
    layer.dispose();
  });
});

describe('TransformerDecoderLayer matches torch.nn.TransformerDecoderLayer', () => {
  for (const c of byKind('transformer_decoder_layer')) {
    it(`${c.name}: out, d/dtgt, d/dmemory and every parameter's grad`, async () => {
      const layer = new nn.TransformerDecoderLayer(dev, layerOptions(c.options));
      expect(layer.numParameters()).toBe(3344);
      await checkCase(c, layer, (x) =>
        layer.forward(x.tgt!, x.memory!, {
          tgtMask: x.tgt_mask!,
          memoryKeyPaddingMask: x.memory_key_padding_mask!,
        }),
      );
      layer.dispose();
    });
  }

  it('tgtIsCausal in the kernel gives what the causal tgt_mask gives', async () => {
    const c = cases.find((x) => x.name === 'decoder_pre_gelu')!;
    const layer = new nn.TransformerDecoderLayer(dev, layerOptions(c.options));
    await checkCase({ ...c, inputs: ['tgt', 'memory', 'memory_key_padding_mask'] }, layer, (x) =>
      layer.forward(x.tgt!, x.memory!, {
        tgtIsCausal: true,
        memoryKeyPaddingMask: x.memory_key_padding_mask!,
      }),
    );
    layer.dispose();
  });
});

describe('TransformerEncoder / TransformerDecoder stacks', () => {
  it('encoder_stack: a PyTorch TransformerEncoder state dict loads and gives the same output', async () => {
    const c = cases.find((x) => x.kind === 'transformer_encoder')!;
    const layerOpts = layerOptions(c.options.layer as Record<string, unknown>);
    const stack = new nn.TransformerEncoder(dev, layerOpts, c.options.num_layers as number, { norm: true });
    expect(Object.keys(stack.stateDict())).toEqual(c.state_dict);
    expect(stack.numParameters()).toBe(4480);
    stack.loadStateDict(stateOf(c));
    const src = upload(`${c.name}.src`);
    const out = stack.forward(src);
    expectClose(
      await out.read(),
      host(`${c.name}.out`).data as Float32Array,
      2e-5,
      2e-5,
      'encoder_stack out',
    );
    for (const t of [src, out]) t.dispose();
    stack.dispose();
  });

  it('forwardDetailed returns the per-head attention of the layers asked for, and the same output', async () => {
    const opts = { dModel: 8, nHead: 2, dimFeedforward: 16, dropout: 0, batchFirst: true, seed: 5 };
    const stack = new nn.TransformerEncoder(dev, opts, 3);
    const src = dev.tensor(randomData(2 * 5 * 8, 7), [2, 5, 8]);
    // key padding: the last two keys of the second sequence are padding (PyTorch: true = pad)
    const pad = dev.tensor(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]), [2, 5], { dtype: 'bool' });
    stack.eval();
    const plain = noGrad(() => stack.forward(src, { srcKeyPaddingMask: pad }));
    const live = dev.memory().liveTensors;
    const { out, attentions } = noGrad(() =>
      stack.forwardDetailed(src, { srcKeyPaddingMask: pad, attentionWeights: [0, 2] }),
    );
    expect(dev.memory().liveTensors).toBe(live + 3); // the output and two maps, nothing else
    expectClose(await out.read(), await plain.read(), 1e-6, 0, 'forwardDetailed out');
    expect(attentions[1]).toBeNull();
    for (const layer of [0, 2]) {
      const w = attentions[layer]!;
      expect(w.shape).toEqual([2, 2, 5, 5]);
      const p = await w.read();
      for (let row = 0; row < 2 * 2 * 5; row++) {
        const r = Array.from(p.subarray(row * 5, row * 5 + 5));
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        if (row >= 2 * 5) expect(r.slice(3)).toEqual([0, 0]); // batch 1: padded keys get no weight
      }
    }
    expect(() => stack.forwardDetailed(src, { attentionWeights: [3] })).toThrow(
      /layer 3; expected integers in \[0, 3\)/,
    );
    for (const t of [src, pad, plain, out, attentions[0]!, attentions[2]!]) t.dispose();
    stack.dispose();
  });

  it('a decoder stack has PyTorch names and parameter count, and trains end to end', async () => {
    const opts = { dModel: 16, nHead: 4, dimFeedforward: 32, dropout: 0, batchFirst: true, seed: 3 };
    const stack = new nn.TransformerDecoder(dev, opts, 3, { norm: true });
    expect(stack.numParameters()).toBe(10064);
    const names = Object.keys(stack.stateDict());
    expect(names).toContain('layers.2.multihead_attn.out_proj.bias');
    expect(names).toContain('layers.0.norm3.weight');
    expect(names.at(-1)).toBe('norm.bias');
    const tgt = dev.tensor(randomData(2 * 3 * 16, 4), [2, 3, 16]);
    const memory = dev.tensor(randomData(2 * 5 * 16, 5), [2, 5, 16]).requiresGrad_();
    const loss = tidy(() => sum(stack.forward(tgt, memory, { tgtIsCausal: true })));
    loss.backward();
    for (const [name, p] of stack.namedParameters()) expect(p.grad, name).not.toBeNull();
    expect(memory.grad).not.toBeNull();
    for (const t of [tgt, memory, loss]) t.dispose();
    stack.dispose();
  });

  it('layers of a stack start from different weights (unlike PyTorch deep copies)', async () => {
    const stack = new nn.TransformerEncoder(dev, { dModel: 8, nHead: 2, dimFeedforward: 8, seed: 1 }, 2);
    const sd = stack.stateDict();
    const a = await sd['layers.0.linear1.weight']!.read();
    const b = await sd['layers.1.linear1.weight']!.read();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    stack.dispose();
  });
});

describe('Transformer layers: gradients, modes, lifetimes', () => {
  const tiny = { dModel: 8, nHead: 2, dimFeedforward: 12, dropout: 0, batchFirst: true, seed: 5 };

  it('encoder layer (post-norm, gelu, key padding): gradcheck of d/dsrc, parity with the CPU', async () => {
    const kpm = [0, 0, 1, 0, 0, 0];
    await gradcheck(
      cpu,
      dev,
      (src) => {
        const layer = new nn.TransformerEncoderLayer(src.device, { ...tiny, activation: 'gelu' });
        const mask = src.device.tensor(kpm, [2, 3], { dtype: 'bool' });
        const y = layer.forward(src, { srcKeyPaddingMask: mask });
        layer.dispose();
        mask.dispose();
        return y;
      },
      [{ shape: [2, 3, 8] }],
      { parity: 2e-5 },
    );
  });

  it('decoder layer (pre-norm, swiglu, sequence-first): gradcheck of d/dtgt and d/dmemory', async () => {
    await gradcheck(
      cpu,
      dev,
      (tgt, memory) => {
        const layer = new nn.TransformerDecoderLayer(tgt.device, {
          ...tiny,
          batchFirst: false,
          normFirst: true,
          activation: 'swiglu',
        });
        const y = layer.forward(tgt, memory, { tgtIsCausal: true });
        layer.dispose();
        return y;
      },
      [{ shape: [3, 2, 8] }, { shape: [4, 2, 8] }],
      { parity: 2e-5 },
    );
  });

  it('swiglu layers name their feed-forward w1 / w2 / w3', () => {
    const layer = new nn.TransformerEncoderLayer(dev, { ...tiny, activation: 'swiglu' });
    const names = Object.keys(layer.stateDict());
    expect(names).toEqual(expect.arrayContaining(['w1.weight', 'w2.weight', 'w3.weight', 'w3.bias']));
    expect(names.some((n) => n.startsWith('linear'))).toBe(false);
    layer.dispose();
  });

  it('train() applies dropout (a fresh mask per call); eval() is deterministic', async () => {
    const layer = new nn.TransformerEncoderLayer(dev, { ...tiny, dropout: 0.5 });
    const src = dev.tensor(randomData(2 * 3 * 8, 9), [2, 3, 8]);
    const run = async () => {
      const y = layer.forward(src);
      const v = await y.read();
      y.dispose();
      return Array.from(v);
    };
    expect(layer.training).toBe(true);
    const [a, b] = [await run(), await run()];
    expect(a).not.toEqual(b);
    layer.eval();
    expect(layer.selfAttn.training).toBe(false);
    const [c, d] = [await run(), await run()];
    expect(c).toEqual(d);
    expect(c).not.toEqual(a);
    src.dispose();
    layer.dispose();
  });

  it('forward + backward inside tidy leaves only the .grad tensors alive', async () => {
    const layer = new nn.TransformerEncoderLayer(dev, { ...tiny, normFirst: true });
    const src = dev.tensor(randomData(2 * 3 * 8, 2), [2, 3, 8]).requiresGrad_();
    const mask = dev.tensor([0, 0, 1, 0, 0, 0], [2, 3], { dtype: 'bool' });
    const before = dev.memory().liveTensors;
    const loss = tidy(() => {
      const l = sum(mul(layer.forward(src, { srcKeyPaddingMask: mask, isCausal: true }), 0.5));
      l.backward();
      return l;
    });
    loss.dispose();
    const grads = layer.parameters().length + 1; // every parameter and src
    expect(dev.memory().liveTensors).toBe(before + grads);
    layer.zeroGrad();
    src.grad?.dispose();
    src.grad = null;
    expect(dev.memory().liveTensors).toBe(before);
    for (const t of [src, mask]) t.dispose();
    layer.dispose();
  });

  it('rejects bad options and shapes with errors naming them', () => {
    expect(() => new nn.TransformerEncoderLayer(dev, { dModel: 10, nHead: 3 })).toThrowError(
      /multiple of numHeads/,
    );
    expect(() => new nn.TransformerEncoderLayer(dev, { dModel: 8, nHead: 2, dropout: 1 })).toThrowError(
      /dropout must be in \[0, 1\)/,
    );
    expect(
      () => new nn.TransformerEncoderLayer(dev, { dModel: 8, nHead: 2, activation: 'tanh' as 'relu' }),
    ).toThrowError(/activation "tanh" is not one of relu, gelu/);
    const layer = new nn.TransformerEncoderLayer(dev, { ...tiny });
    const bad = dev.zeros([2, 3, 6]);
    expect(() => layer.forward(bad)).toThrowError(
      /query has shape \[2, 3, 6\]; expected \[N, L, E\] with last dim 8/,
    );
    bad.dispose();
    layer.dispose();
  });
});
