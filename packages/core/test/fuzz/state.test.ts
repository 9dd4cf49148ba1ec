/**
 * Family 3 of the hardening suite: state changes are all or nothing, and names from files are plain
 * names. `Module.loadStateDict` and `Optimizer.loadStateDict` either load every entry or change
 * nothing (checked by reading every tensor before and after); `__proto__`, `constructor`, `toString`
 * round-trip through state dicts, safetensors files and checkpoints like any other name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Device, io, nn, optim, type Tensor } from '../../src/index.js';
import { getDevices, onGpu } from '../device.js';
import { checkAsyncProperty, typedError } from './property.js';

const FAMILY = 'state';
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const { dev } = await getDevices();

/** A module whose own names shadow Object.prototype: parameters `toString` and `__proto__`, an i32 buffer. */
class Named extends nn.Module {
  constructor(device: Device) {
    super(device);
    this.registerParameter('toString', device.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]));
    this.registerParameter('__proto__', device.tensor(new Float32Array([7, 8]), [2]));
    this.registerBuffer('constructor', device.tensor(new Int32Array([9, 10]), [2]));
  }
}

async function snapshot(m: nn.Module): Promise<string> {
  const entries = Object.entries(m.stateDict());
  const values = await Promise.all(entries.map(([, t]) => t.read()));
  return JSON.stringify(entries.map(([name], i) => [name, Array.from(values[i]!)]));
}

type Variant =
  | 'tensor'
  | 'host'
  | 'hostInt'
  | 'shape'
  | 'null'
  | 'disposed'
  | 'length'
  | 'range'
  | 'string'
  | 'absent';
const VARIANTS: Variant[] = [
  'tensor',
  'host',
  'hostInt',
  'shape',
  'null',
  'disposed',
  'length',
  'range',
  'string',
  'absent',
];

/** A value for an entry of `shape` and dtype, good or bad in the way `variant` says. */
function valueFor(variant: Variant, shape: readonly number[], int: boolean, fill: number): unknown {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = int ? new Int32Array(n).fill(fill) : new Float32Array(n).fill(fill + 0.5);
  switch (variant) {
    case 'tensor':
      return dev.tensor(data, shape);
    case 'host':
      return { dtype: int ? 'I32' : 'F32', shape: [...shape], data };
    case 'hostInt':
      return { dtype: 'I64', shape: [...shape], data: new BigInt64Array(n).fill(BigInt(fill)) };
    case 'shape':
      return { dtype: 'F32', shape: [n + 1], data: new Float32Array(n + 1) };
    case 'null':
      return null;
    case 'disposed': {
      const t = dev.tensor(data, shape);
      t.dispose();
      return t;
    }
    case 'length':
      return { dtype: 'F32', shape: [...shape], data: new Float32Array(n + 2) };
    case 'range': // beyond i32, or beyond what a float64 holds exactly
      return int
        ? { dtype: 'F64', shape: [...shape], data: new Float64Array(n).fill(2 ** 40) }
        : { dtype: 'I64', shape: [...shape], data: new BigInt64Array(n).fill(2n ** 60n + 1n) };
    case 'string':
      return 'weights';
    case 'absent':
      return undefined;
  }
}

const GOOD: Variant[] = ['tensor', 'host', 'hostInt', 'absent'];

describe('hardening: all-or-nothing state, names from files are names', () => {
  it('Module.loadStateDict loads every entry or none (nothing copied on any error)', async () => {
    const m = new Named(dev);
    const targets = Object.entries(m.stateDict()).map(
      ([name, t]) => [name, t.shape, t.dtype === 'i32'] as const,
    );
    await checkAsyncProperty(
      FAMILY,
      'Module.loadStateDict',
      [
        fc.array(fc.constantFrom(...VARIANTS), { minLength: targets.length, maxLength: targets.length }),
        fc.subarray(PROTO_NAMES.concat(['extra'])),
        fc.boolean(),
        fc.integer({ min: -5, max: 5 }),
      ],
      async (variants, extras, strict, fill) => {
        const before = await snapshot(m);
        const entries: [string, unknown][] = [];
        targets.forEach(([name, shape, int], i) => {
          if (variants[i] !== 'absent') entries.push([name, valueFor(variants[i]!, shape, int, fill)]);
        });
        for (const name of extras)
          if (!targets.some(([t]) => t === name)) entries.push([name, valueFor('host', [1], false, fill)]);
        const state = Object.fromEntries(entries); // own "__proto__" key, as JSON.parse makes it
        const error = typedError(
          () => m.loadStateDict(state as never, { strict }),
          ['INVALID_ARGUMENT', 'SHAPE_MISMATCH'],
        );
        const allGood = variants.every((v) => GOOD.includes(v));
        const unexpected = entries.some(([name]) => !targets.some(([t]) => t === name));
        const missing = variants.includes('absent');
        expect(error === null).toBe(allGood && (!strict || (!unexpected && !missing)));
        if (error) expect(await snapshot(m)).toBe(before);
        else {
          // every given entry now holds its values; absent ones kept theirs
          const after = m.stateDict();
          for (const [name, value] of entries) {
            const t = after[name];
            if (!t) continue;
            const hostInt = (value as { dtype?: string }).dtype === 'I64';
            const want = t.dtype === 'i32' || hostInt ? fill : fill + 0.5;
            expect(
              Array.from(await t.read()).every((v) => v === want),
              name,
            ).toBe(true);
          }
        }
        for (const [, v] of entries)
          if (v && typeof v === 'object' && 'dispose' in v) (v as Tensor).dispose();
      },
      onGpu ? 25 : 80,
    );
    m.dispose();
  });

  it('Optimizer.loadStateDict checks steps and hyper-parameters before changing anything', async () => {
    const w = dev.tensor(new Float32Array([1, 2]), [2], { requiresGrad: true });
    const opt = new optim.AdamW([w], { lr: 0.1 });
    const bad = fc.oneof(fc.constantFrom<unknown>(Number.NaN, -1, 1.5, 'x', null, [1], true), fc.double());
    await checkAsyncProperty(
      FAMILY,
      'Optimizer.loadStateDict',
      [fc.constantFrom('lr', 'betas', 'weightDecay', '__proto__', 'step', 'momentum'), bad],
      async (key, value) => {
        const sd = opt.stateDict();
        const group = { ...sd.paramGroups[0]! } as Record<string, unknown>;
        let state = sd as unknown as Record<string, unknown>;
        if (key === 'step') state = { ...sd, step: value };
        else
          Object.defineProperty(group, key, { value, enumerable: true, writable: true, configurable: true });
        if (key !== 'step') state = { ...sd, paramGroups: [group] };
        const lrBefore = opt.paramGroups[0]!.lr;
        const protoBefore = Object.getPrototypeOf(opt.paramGroups[0]);
        const error = typedError(() => opt.loadStateDict(state as never), ['INVALID_ARGUMENT']);
        const fine =
          (key === 'lr' || key === 'weightDecay') && typeof value === 'number' && Number.isFinite(value);
        const stepFine = key === 'step' && Number.isSafeInteger(value) && (value as number) >= 0;
        expect(error === null).toBe(fine || stepFine);
        if (error) expect(opt.paramGroups[0]!.lr).toBe(lrBefore);
        expect(Object.getPrototypeOf(opt.paramGroups[0])).toBe(protoBefore);
        opt.loadStateDict(sd); // back to where it was
      },
      60,
    );
    opt.dispose();
    w.dispose();
  });

  it('names like __proto__ and toString round-trip through safetensors and checkpoints', async () => {
    const names = fc.uniqueArray(
      fc.oneof(fc.constantFrom(...PROTO_NAMES, 'a.b', '', 'ü', 'optimizer'), fc.string({ maxLength: 6 })),
      { minLength: 1, maxLength: 6 },
    );
    await checkAsyncProperty(
      FAMILY,
      'names in safetensors and checkpoints',
      [names.filter((list) => !list.includes('__metadata__'))],
      async (list) => {
        const tensors = Object.fromEntries(
          list.map((name, i) => [name, { dtype: 'F32' as const, shape: [1], data: new Float32Array([i]) }]),
        );
        const back = io.readSafetensors(
          io.writeSafetensors(tensors, Object.fromEntries(list.map((n) => [n, n]))),
        );
        expect(Object.keys(back).sort()).toEqual([...list].sort());
        for (const [i, name] of list.entries())
          expect(Array.from(back[name]!.data as Float32Array)).toEqual([i]);
        const modelNames = list.filter((n) => !n.startsWith('optimizer.'));
        const model = Object.fromEntries(modelNames.map((name, i) => [name, dev.tensor([i])]));
        const ckpt = io.loadCheckpoint(await io.checkpointBytes({ model, step: 3 }));
        expect(Object.keys(ckpt.model).sort()).toEqual([...modelNames].sort());
        expect(Object.getPrototypeOf(ckpt.model)).toBeNull();
        for (const t of Object.values(model)) t.dispose();
      },
      onGpu ? 20 : 60,
    );
  });
});
