/** Checkpoints: round trip, atomic writes, damaged files, and a resumed run equal to a straight one. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { getDevices, randomData } from '../../test/device.js';
import { add, type Device, io, matmul, nn, optim, type Tensor, train } from '../index.js';

// saveCheckpoint imports node:fs/promises when called; a switch lets one test make rename fail
const fsControl = vi.hoisted(() => ({ failRename: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (fsControl.failRename) throw new Error('EIO: simulated failure during rename');
      return real.rename(from, to);
    },
  };
});

const { dev } = await getDevices();

const tmp = () => mkdtempSync(join(tmpdir(), 'multihead-ckpt-'));

/** A linear model y = x W^T + b with PyTorch names. */
class Linear {
  readonly params: Record<string, Tensor>;
  constructor(device: Device, init?: Record<string, io.HostTensor>) {
    const w = init?.weight?.data ?? randomData(6, 1);
    const b = init?.bias?.data ?? randomData(2, 2);
    this.params = {
      weight: device.tensor(Float32Array.from(w as Float32Array), [2, 3]).requiresGrad_(),
      bias: device.tensor(Float32Array.from(b as Float32Array), [2]).requiresGrad_(),
    };
  }
  parameters = () => Object.values(this.params);
  stateDict = () => ({ ...this.params });
  forward = (x: Tensor) => add(matmul(x, this.params.weight!.mT), this.params.bias!);
}

const xs = randomData(8 * 3, 11);
const ys = randomData(8 * 2, 12);
/** Eight steps of AdamW with a cosine schedule and clipping; `from`..`to` of them. */
function run(model: Linear, opt: optim.AdamW, sched: optim.LRScheduler, from: number, to: number) {
  return train({
    model,
    optimizer: opt,
    scheduler: sched,
    steps: to - from,
    startStep: from,
    clipGradNorm: 0.5,
    progressEvery: 100,
    batch: (step) => ({
      x: dev.tensor(xs.subarray(step * 3, step * 3 + 3), [1, 3]),
      y: dev.tensor(ys.subarray(step * 2, step * 2 + 2), [1, 2]),
    }),
    loss: ({ x, y }) => nn.mseLoss(model.forward(x), y),
  });
}
const schedule = optim.cosineWithWarmup({ warmupSteps: 2, totalSteps: 8 });

describe('checkpoints', () => {
  it('round trip: model tensors of every dtype, optimizer and scheduler state, metadata', async () => {
    const model = new Linear(dev);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.05, amsgrad: true });
    const sched = new optim.LRScheduler(opt, schedule);
    await run(model, opt, sched, 0, 2);
    const extra = {
      ids: dev.tensor(new Int32Array([-3, 7]), [2]),
      mask: dev.tensor([true, false, true], [3], { dtype: 'bool' }),
    };
    const bytes = await io.checkpointBytes({
      model: { ...model.stateDict(), ...extra },
      optimizer: opt.stateDict(),
      scheduler: sched.stateDict(),
      step: 2,
      metadata: { config: { dModel: 3 }, note: 'hi' },
    });
    // a plain safetensors file: PyTorch reads the model under its own names
    const plain = io.readSafetensors(bytes);
    expect(Object.keys(plain).sort()).toEqual([
      'bias',
      'ids',
      'mask',
      'optimizer.state.0.exp_avg',
      'optimizer.state.0.exp_avg_sq',
      'optimizer.state.0.max_exp_avg_sq',
      'optimizer.state.1.exp_avg',
      'optimizer.state.1.exp_avg_sq',
      'optimizer.state.1.max_exp_avg_sq',
      'weight',
    ]);
    const ck = io.loadCheckpoint(bytes);
    expect(ck.step).toBe(2);
    expect(ck.metadata).toEqual({ config: { dModel: 3 }, note: 'hi' });
    expect(ck.scheduler).toEqual({ lastStep: 2 });
    expect(Array.from(ck.model.weight!.data as Float32Array)).toEqual(
      Array.from(await model.params.weight!.read()),
    );
    expect(ck.model.ids).toMatchObject({ dtype: 'I32', shape: [2] });
    expect(Array.from(ck.model.ids!.data as Int32Array)).toEqual([-3, 7]);
    expect(Array.from(ck.model.mask!.data as Uint8Array)).toEqual([1, 0, 1]);
    const sd = opt.stateDict();
    expect(ck.optimizer!.step).toBe(2);
    expect(ck.optimizer!.paramGroups).toEqual(JSON.parse(JSON.stringify(sd.paramGroups)));
    expect(Array.from(ck.optimizer!.state[1]!.tensors.exp_avg_sq!.data as Float32Array)).toEqual(
      Array.from(await sd.state[1]!.tensors.exp_avg_sq!.read()),
    );
    opt.dispose();
  });

  it('a resumed run equals a straight one, bit for bit', async () => {
    const straight = new Linear(dev);
    const o1 = new optim.AdamW(straight.parameters(), { lr: 0.05, weightDecay: 0.1 });
    const s1 = new optim.LRScheduler(o1, schedule);
    await run(straight, o1, s1, 0, 8);

    const first = new Linear(dev);
    const o2 = new optim.AdamW(first.parameters(), { lr: 0.05, weightDecay: 0.1 });
    const s2 = new optim.LRScheduler(o2, schedule);
    await run(first, o2, s2, 0, 3);
    const path = join(tmp(), 'run.safetensors');
    await io.saveCheckpoint(path, {
      model: first.stateDict(),
      optimizer: o2.stateDict(),
      scheduler: s2.stateDict(),
      step: 3,
    });

    const ck = await io.readCheckpoint(path);
    const resumed = new Linear(dev, ck.model);
    const o3 = new optim.AdamW(resumed.parameters(), { lr: 1 }); // lr and state come from the checkpoint
    o3.loadStateDict(ck.optimizer!);
    const s3 = new optim.LRScheduler(o3, schedule);
    s3.loadStateDict(ck.scheduler!);
    await run(resumed, o3, s3, ck.step, 8);

    for (const name of ['weight', 'bias']) {
      expect(Array.from(await resumed.params[name]!.read())).toEqual(
        Array.from(await straight.params[name]!.read()),
      );
    }
    const [a, b] = [o1.stateDict(), o3.stateDict()];
    expect(b.step).toBe(8);
    expect(b.paramGroups).toEqual(a.paramGroups);
    expect(Array.from(await b.state[0]!.tensors.exp_avg_sq!.read())).toEqual(
      Array.from(await a.state[0]!.tensors.exp_avg_sq!.read()),
    );
    for (const o of [o1, o2, o3]) o.dispose();
  });

  it('writes atomically: a failed write leaves the previous file whole and no temporary behind', async () => {
    const dir = tmp();
    const path = join(dir, 'model.safetensors');
    const w = dev.tensor([1, 2, 3], [3]);
    await io.saveCheckpoint(path, { model: { w }, step: 1 });
    const before = readFileSync(path);
    const v = dev.tensor([4, 5, 6], [3]);
    await io.saveCheckpoint(path, { model: { w: v }, step: 2 }); // overwrites
    expect((await io.readCheckpoint(path)).step).toBe(2);
    const good = readFileSync(path);
    expect(good.equals(before)).toBe(false);

    fsControl.failRename = true;
    try {
      await expect(io.saveCheckpoint(path, { model: { w }, step: 3 })).rejects.toThrowError(
        /saveCheckpoint: writing .*model\.safetensors failed \(EIO: simulated failure during rename\); any previous file there is untouched/,
      );
    } finally {
      fsControl.failRename = false;
    }
    expect(readFileSync(path).equals(good)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    // an error before anything is written (a disposed tensor) leaves it alone too
    const gone = dev.tensor([1], [1]);
    gone.dispose();
    await expect(io.saveCheckpoint(path, { model: { gone }, step: 4 })).rejects.toThrowError(/after dispose/);
    await expect(
      io.saveCheckpoint(join(dir, 'missing', 'x.safetensors'), { model: { w }, step: 1 }),
    ).rejects.toThrowError(/saveCheckpoint: writing .*x\.safetensors failed \(ENOENT/);
    expect(readFileSync(path).equals(good)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    w.dispose();
    v.dispose();
  });

  it('damaged or foreign files give clear errors', async () => {
    const w = dev.tensor(randomData(16, 3), [16]);
    const bytes = await io.checkpointBytes({ model: { w }, step: 5 });
    expect(io.loadCheckpoint(bytes).step).toBe(5);
    expect(() => io.loadCheckpoint(bytes.subarray(0, bytes.length - 10))).toThrowError(
      /safetensors: tensor "w" data_offsets \[0, 64\] fall outside the \d+ data bytes/,
    );
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 0x10;
    expect(() => io.loadCheckpoint(flipped)).toThrowError(
      /checkpoint: crc32 of the header and data is [0-9a-f]{8} but the header says [0-9a-f]{8}: the file is damaged/,
    );
    const plain = io.writeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    expect(() => io.loadCheckpoint(plain)).toThrowError(
      /format is undefined, not "multihead-checkpoint": not a checkpoint/,
    );
    const dir = tmp();
    writeFileSync(join(dir, 'junk'), 'not a checkpoint at all');
    await expect(io.readCheckpoint(join(dir, 'junk'))).rejects.toThrowError(/safetensors: header length/);
    await expect(io.checkpointBytes({ model: { 'optimizer.x': w }, step: 0 })).rejects.toThrowError(
      /model tensor "optimizer.x" clashes/,
    );
    w.dispose();
  });
});
