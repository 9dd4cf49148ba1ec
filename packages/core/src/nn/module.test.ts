/** nn.Module: names, state dicts (load, errors), modes, gradients, tying and lifetimes. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../test/device.js';
import { createDevice, type Device, io, MultiheadError, nn, sum, type Tensor, tidy } from '../index.js';

const { dev } = await getDevices();

const read = async (t: Tensor) => Array.from(await t.read());

/** A toy GPT-like model: embedding, a list of blocks, a final norm and a head. */
class Toy extends nn.Module {
  readonly embed: nn.Embedding;
  readonly blocks: nn.ModuleList<nn.Linear>;
  readonly norm: nn.LayerNorm;
  readonly head: nn.Linear;
  constructor(device: Device, seed = 1) {
    super(device);
    this.embed = this.registerModule('embed', new nn.Embedding(device, 7, 4, { seed }));
    this.blocks = this.registerModule(
      'blocks',
      new nn.ModuleList(
        device,
        [0, 1].map((i) => new nn.Linear(device, 4, 4, { seed: seed + i })),
      ),
    );
    this.registerBuffer('scale', device.tensor([2], [1]));
    this.registerBuffer('cache', device.zeros([3]), { persistent: false });
    this.norm = this.registerModule('norm', new nn.LayerNorm(device, 4));
    this.head = this.registerModule('head', new nn.Linear(device, 4, 7, { bias: false, seed: seed + 9 }));
  }
  forward(ids: Tensor): Tensor {
    let x = this.embed.forward(ids);
    for (const b of this.blocks) x = b.forward(x);
    return this.head.forward(this.norm.forward(x));
  }
}

const NAMES = [
  'scale',
  'embed.weight',
  'blocks.0.weight',
  'blocks.0.bias',
  'blocks.1.weight',
  'blocks.1.bias',
  'norm.weight',
  'norm.bias',
  'head.weight',
];

describe('Module', () => {
  it('names parameters and buffers with dotted PyTorch names', () => {
    const m = new Toy(dev);
    expect(m.namedParameters().map(([n]) => n)).toEqual(NAMES.slice(1));
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['scale', 'cache']);
    expect(Object.keys(m.stateDict()).sort()).toEqual([...NAMES].sort()); // non-persistent buffers left out
    expect(m.parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true);
    expect(m.numParameters()).toBe(7 * 4 + 2 * 20 + 8 + 28);
    expect(m.namedModules().map(([n]) => n)).toEqual([
      '',
      'embed',
      'blocks',
      'blocks.0',
      'blocks.1',
      'norm',
      'head',
    ]);
    expect(m.blocks.length).toBe(2);
    expect(() => m.blocks.at(2)).toThrowError(/index 2 is outside \[0, 2\)/);
    m.dispose();
  });

  it('loadStateDict copies into the same tensors (optimizers keep them), from host or device tensors', async () => {
    const m = new Toy(dev, 1);
    const src = new Toy(dev, 2);
    const params = m.parameters();
    const sd = src.stateDict();
    // a host copy as io.readSafetensors gives it: F64 and BF16 are converted like PyTorch's copy_
    const hostWeight: io.HostTensor = {
      dtype: 'F64',
      shape: [7, 4],
      data: Float64Array.from(await read(sd['embed.weight']!)),
    };
    const result = m.loadStateDict({ ...sd, 'embed.weight': hostWeight });
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(m.parameters()).toEqual(params);
    expect(m.parameters().every((p, i) => p === params[i])).toBe(true);
    for (const [name, t] of Object.entries(m.stateDict()))
      expect(await read(t), name).toEqual(await read(sd[name]!));
    m.dispose();
    src.dispose();
  });

  it('loadStateDict names every missing, unexpected and mis-shaped key in one error, and loads nothing', async () => {
    const m = new Toy(dev);
    const before = await read(m.head.weight);
    const sd = m.stateDict();
    const { 'norm.bias': _, 'blocks.1.weight': __, ...rest } = sd;
    const bad = {
      ...rest,
      'head.weight': dev.zeros([7, 3]),
      'blocks.0.bias': { dtype: 'F32' as const, shape: [5], data: new Float32Array(5) },
      'model.extra': dev.zeros([1]),
      'norm.gamma': dev.zeros([4]),
    };
    let error: MultiheadError | null = null;
    try {
      m.loadStateDict(bad);
    } catch (e) {
      error = e as MultiheadError;
    }
    expect(error).toBeInstanceOf(MultiheadError);
    expect(error!.code).toBe('INVALID_ARGUMENT');
    expect(error!.message).toContain('Toy.loadStateDict');
    expect(error!.message).toContain('missing keys [blocks.1.weight, norm.bias]');
    expect(error!.message).toContain('unexpected keys [model.extra, norm.gamma]');
    expect(error!.message).toContain('head.weight has shape [7, 3]; expected [7, 4]');
    expect(error!.message).toContain('blocks.0.bias has shape [5]; expected [4]');
    expect(await read(m.head.weight)).toEqual(before); // checked before anything is copied

    // strict: false ignores missing and unexpected keys (and reports them), never mis-shaped ones
    const loose = m.loadStateDict(
      { 'head.weight': sd['head.weight']!, other: dev.zeros([1]) },
      { strict: false },
    );
    expect(loose.unexpectedKeys).toEqual(['other']);
    expect(loose.missingKeys).toHaveLength(NAMES.length - 1);
    expect(() => m.loadStateDict({ 'head.weight': dev.zeros([1, 1]) }, { strict: false })).toThrowError(
      /mis-shaped: head.weight has shape \[1, 1\]; expected \[7, 4\]/,
    );
    m.dispose();
  });

  it('loadStateDict refuses tensors of another device with a clear error', async () => {
    const other = await createDevice({ backend: 'cpu' }); // a second device, even in the cpu project
    const m = new nn.Linear(dev, 2, 2);
    expect(() => m.loadStateDict({ weight: other.zeros([2, 2]), bias: other.zeros([2]) })).toThrowError(
      /weight is on another device \(cpu/,
    );
    m.dispose();
  });

  it('train() / eval() reach every descendant; requiresGrad_ freezes; zeroGrad drops grads', async () => {
    const m = new Toy(dev);
    m.eval();
    expect(m.namedModules().every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect(m.blocks.at(1).training).toBe(true);
    const ids = dev.tensor(new Int32Array([1, 2, 3]), [3]);
    m.embed.requiresGrad_(false);
    const loss = tidy(() => sum(m.forward(ids)));
    loss.backward();
    expect(m.embed.weight.grad).toBeNull();
    expect(m.head.weight.grad).not.toBeNull();
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    for (const t of [ids, loss]) t.dispose();
    m.dispose();
  });

  it('dispose frees every parameter and buffer; building inside tidy keeps them', () => {
    const before = dev.memory().liveTensors;
    const m = tidy(() => new Toy(dev));
    expect(m.parameters().every((p) => !p.disposed)).toBe(true);
    m.dispose();
    expect(dev.memory().liveTensors).toBe(before);
  });

  it('registration errors name the problem', () => {
    class Twice extends nn.Module {
      constructor(device: Device) {
        super(device);
        this.registerParameter('w', device.zeros([1]));
        this.registerParameter('w', device.zeros([1]));
      }
    }
    expect(() => new Twice(dev)).toThrowError(/parameter name "w" is already registered/);
    class Dotted extends nn.Module {
      constructor(device: Device) {
        super(device);
        this.registerBuffer('a.b', device.zeros([1]));
      }
    }
    expect(() => new Dotted(dev)).toThrowError(/buffer name "a.b" must be non-empty, without dots/);
    const lin = new nn.Linear(dev, 2, 3);
    expect(() => lin.setParameter('weight', dev.zeros([2, 2]))).toThrowError(
      /weight is \[3, 2\]; got \[2, 2\]/,
    );
    lin.dispose();
  });

  it('manualSeed makes default initialization reproducible', async () => {
    nn.manualSeed(42);
    const a = new nn.Linear(dev, 3, 3);
    const b = new nn.Linear(dev, 3, 3);
    nn.manualSeed(42);
    const c = new nn.Linear(dev, 3, 3);
    expect(await read(c.weight)).toEqual(await read(a.weight));
    expect(await read(b.weight)).not.toEqual(await read(a.weight));
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('tieWeights (GPT-2 output head sharing the token embedding)', () => {
  it('shares one tensor: listed once, gradients of both uses sum, saved and loaded under both names', async () => {
    const m = new Toy(dev);
    nn.tieWeights(m.head, m.embed);
    expect(m.head.weight).toBe(m.embed.weight);
    expect(m.namedParameters().map(([n]) => n)).not.toContain('head.weight');
    expect(m.numParameters()).toBe(7 * 4 + 2 * 20 + 8);
    expect(m.stateDict()['head.weight']).toBe(m.embed.weight);

    // gradient = embedding use + head use, checked against an untied copy with the same values
    const ids = dev.tensor(new Int32Array([0, 3, 3]), [3]);
    const loss = tidy(() => sum(m.forward(ids)));
    loss.backward();
    const untied = new Toy(dev);
    untied.loadStateDict(m.stateDict());
    const loss2 = tidy(() => sum(untied.forward(ids)));
    loss2.backward();
    const e = await read(untied.embed.weight.grad!);
    const h = await read(untied.head.weight.grad!);
    const tied = await read(m.embed.weight.grad!);
    expectClose(
      tied,
      e.map((g, i) => g + h[i]!),
      1e-5,
      1e-5,
      'tied grad = embedding grad + head grad',
    );

    // a checkpoint that stores the tied weight once (as HF does) loads strictly
    const { 'head.weight': _, ...withoutHead } = untied.stateDict();
    expect(m.loadStateDict(withoutHead).missingKeys).toEqual([]);
    const before = dev.memory().liveTensors;
    m.dispose();
    expect(dev.memory().liveTensors).toBeLessThan(before);
    for (const t of [ids, loss, loss2]) t.dispose();
    untied.dispose();
  });

  it('refuses mismatched shapes', () => {
    const head = new nn.Linear(dev, 4, 6);
    const embed = new nn.Embedding(dev, 7, 4);
    expect(() => nn.tieWeights(head, embed)).toThrowError(/weight is \[6, 4\]; got \[7, 4\]/);
    head.dispose();
    embed.dispose();
  });

  it('a host state dict round-trips through io.writeSafetensors', async () => {
    const m = new Toy(dev, 3);
    const tensors: Record<string, io.WritableTensor> = {};
    for (const [name, t] of Object.entries(m.stateDict())) {
      tensors[name] = { dtype: 'F32', shape: t.shape, data: new Float32Array(await read(t)) };
    }
    const back = io.readSafetensors(io.writeSafetensors(tensors));
    const n = new Toy(dev, 4);
    n.loadStateDict(back);
    expect(await read(n.head.weight)).toEqual(await read(m.head.weight));
    m.dispose();
    n.dispose();
  });
});
