/** nn.MultiHeadAttention against torch.nn.MultiheadAttention (tools/fixtures/gen_mha.py). */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../test/device.js';
import { type Device, io, nn, type Tensor } from '../index.js';

const file = io.parseSafetensors(
  readFileSync(new URL('../../test/fixtures/mha.safetensors', import.meta.url)),
);
const cases = JSON.parse(file.metadata.cases!) as {
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
}[];

let dev: Device;
beforeAll(async () => {
  ({ dev } = await getDevices());
});

const host = (name: string) => file.tensors[name]!;
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
