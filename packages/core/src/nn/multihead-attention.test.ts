/** nn.MultiHeadAttention against torch.nn.MultiheadAttention (tools/fixtures/gen_mha.py). */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import { gradcheck } from '../../test/gradcheck.js';
import { nn, sum, type Tensor, tidy } from '../index.js';

const { cases, host } = loadFixture<{
  name: string;
  E: number;
  H: number;
  bias: boolean;
  kdim?: number;
  vdim?: number;
  batch_first: boolean;
  causal?: boolean;
  per_head?: boolean;
  inputs: string[];
  state_dict: string[];
}>('mha.safetensors');

const { dev, cpu } = await getDevices();

const upload = (name: string) => {
  const t = host(name);
  return dev.tensor(t.data as Float32Array | Uint8Array, t.shape, {
    dtype: t.dtype === 'BOOL' ? 'bool' : 'f32',
  });
};

describe('MultiHeadAttention matches torch.nn.MultiheadAttention', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const mha = new nn.MultiHeadAttention(dev, {
        embedDim: c.E,
        numHeads: c.H,
        bias: c.bias,
        batchFirst: c.batch_first,
        ...(c.kdim ? { kdim: c.kdim } : {}),
        ...(c.vdim ? { vdim: c.vdim } : {}),
      });
      expect(Object.keys(mha.stateDict()).sort()).toEqual([...c.state_dict].sort());
      mha.loadStateDict(Object.fromEntries(c.state_dict.map((k) => [k, host(`${c.name}.sd.${k}`)])));
      const opts: nn.MultiHeadAttentionForward = { averageAttnWeights: !c.per_head };
      if (c.inputs.includes('key_padding_mask')) opts.keyPaddingMask = upload(`${c.name}.key_padding_mask`);
      if (c.inputs.includes('attn_mask')) opts.attnMask = upload(`${c.name}.attn_mask`);
      if (c.causal) opts.isCausal = true;
      const [out, weights] = mha.forward(
        upload(`${c.name}.query`),
        upload(`${c.name}.key`),
        upload(`${c.name}.value`),
        opts,
      );
      expect(out.shape).toEqual(host(`${c.name}.out`).shape);
      expectClose(await out.read(), host(`${c.name}.out`).data as Float32Array, 1e-5, 1e-5, 'out');
      expectClose(
        await (weights as Tensor).read(),
        host(`${c.name}.weights`).data as Float32Array,
        1e-6,
        1e-5,
        'weights',
      );
      mha.dispose();
    });
  }

  it('loadStateDict names missing, unexpected and mis-shaped keys', () => {
    const mha = new nn.MultiHeadAttention(dev, { embedDim: 8, numHeads: 2 });
    const sd = mha.stateDict();
    expect(() => mha.loadStateDict({ ...sd, extra: sd.in_proj_bias! })).toThrowError(
      /unexpected keys \[extra\]/,
    );
    const { in_proj_bias: _, ...rest } = sd;
    expect(() => mha.loadStateDict(rest)).toThrowError(/missing keys \[in_proj_bias\]/);
    expect(() => mha.loadStateDict({ ...sd, 'out_proj.weight': dev.zeros([8, 4]) })).toThrowError(
      /out_proj.weight has shape \[8, 4\]; expected \[8, 8\]/,
    );
    expect(() => new nn.MultiHeadAttention(dev, { embedDim: 10, numHeads: 3 })).toThrowError(
      /multiple of numHeads/,
    );
  });
});

describe('MultiHeadAttention trains', () => {
  it('gradcheck in query, key, value: kdim/vdim, sequence-first, key padding and a float attnMask', async () => {
    await gradcheck(
      cpu,
      dev,
      (query, key, value) => {
        const d = query.device;
        const mha = new nn.MultiHeadAttention(d, { embedDim: 4, numHeads: 2, kdim: 3, vdim: 5, seed: 7 });
        const keyPaddingMask = d.tensor([0, 0, 0, 1, 0, 0, 0, 0], [2, 4], { dtype: 'bool' });
        const attnMask = d.tensor(randomData(3 * 4, 8), [3, 4]);
        const [out] = mha.forward(query, key, value, { keyPaddingMask, attnMask, needWeights: false });
        for (const t of [keyPaddingMask, attnMask]) t.dispose();
        mha.dispose();
        return out;
      },
      [{ shape: [3, 2, 4] }, { shape: [4, 2, 3] }, { shape: [4, 2, 5] }],
      { parity: 2e-5 },
    );
  });

  it('self-attention (one tensor for query, key and value) takes the packed projection, same result', async () => {
    const mha = new nn.MultiHeadAttention(dev, { embedDim: 8, numHeads: 2, batchFirst: true, seed: 3 });
    const data = randomData(2 * 5 * 8, 4);
    const x = dev.tensor(data, [2, 5, 8]).requiresGrad_();
    const [copyK, copyV] = [dev.tensor(data, [2, 5, 8]), dev.tensor(data, [2, 5, 8])];
    const [packed, wPacked] = mha.forward(x, x, x, { isCausal: true });
    const [separate, wSeparate] = mha.forward(x, copyK, copyV, { isCausal: true });
    expectClose(await packed.read(), await separate.read(), 1e-6, 1e-6, 'out');
    expectClose(await wPacked!.read(), await wSeparate!.read(), 1e-6, 1e-6, 'weights');
    const loss = tidy(() => sum(packed));
    loss.backward();
    const names = Object.keys(mha.stateDict());
    expect(mha.parameters().every((p) => p.grad !== null)).toBe(true);
    expect(names).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(Array.from(await mha.outProj.bias!.read())).toEqual(new Array(8).fill(0)); // PyTorch init
    for (const t of [x, copyK, copyV, packed, wPacked!, separate, wSeparate!, loss]) t.dispose();
    mha.dispose();
  });

  it('attention dropout is active in training mode only', async () => {
    const mha = new nn.MultiHeadAttention(dev, {
      embedDim: 4,
      numHeads: 1,
      dropout: 0.5,
      batchFirst: true,
      seed: 1,
    });
    const x = dev.tensor(randomData(1 * 6 * 4, 2), [1, 6, 4]);
    const run = async () => {
      const [out] = mha.forward(x, x, x, { needWeights: false });
      return Array.from(await out.read());
    };
    const [a, b] = [await run(), await run()];
    expect(a).not.toEqual(b);
    mha.eval();
    expect(await run()).toEqual(await run());
    x.dispose();
    mha.dispose();
  });

  it('names the expected mask shapes', () => {
    const mha = new nn.MultiHeadAttention(dev, { embedDim: 4, numHeads: 2, batchFirst: true });
    const x = dev.zeros([2, 3, 4]);
    const badMask = dev.zeros([3, 2]);
    expect(() => mha.forward(x, x, x, { attnMask: badMask })).toThrowError(
      /attnMask \[3, 2\]; expected \[L, S\] = \[3, 3\] or \[N·H, L, S\] = \[4, 3, 3\]/,
    );
    for (const t of [x, badMask]) t.dispose();
    mha.dispose();
  });
});
