/**
 * Family 4 of the hardening suite: safetensors and checkpoints. Files are built by hand (header text
 * included, so duplicate keys, `1.0` for an integer or a leading space can be written) with one
 * corruption of known effect; the reader must accept exactly the valid ones, decode them exactly,
 * and refuse the others with a typed error. Random byte damage gives only typed errors; the writer
 * refuses what the reader would reject; a flipped bit anywhere in a checkpoint is detected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { io } from '../../src/index.js';
import { getDevices } from '../device.js';
import { checkAsyncProperty, checkProperty, typedError } from './property.js';

const FAMILY = 'safetensors';
const BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};
const { dev } = await getDevices();

interface Spec {
  name: string;
  dtype: string;
  shape: number[];
}

const spec = fc.record({
  name: fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'a', 'b.c', ''),
    fc.string({ maxLength: 4 }),
  ),
  dtype: fc.constantFrom(...Object.keys(BYTES)),
  shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
});
const specs = fc
  .uniqueArray(spec, { selector: (s) => s.name, maxLength: 5 })
  .map((list) => list.filter((s) => s.name !== '__metadata__'));

type Corruption =
  | { kind: 'none' }
  | { kind: 'shiftEnd'; which: number; delta: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'trailing'; count: number }
  | { kind: 'truncate'; count: number }
  | { kind: 'dtype'; which: number; dtype: string }
  | { kind: 'shapeToken'; which: number; token: string }
  | { kind: 'duplicate'; which: number }
  | { kind: 'leadingSpace' }
  | { kind: 'metadata'; value: string }
  | { kind: 'lengthField'; delta: number }
  | { kind: 'extraField' }
  | { kind: 'threeOffsets'; which: number };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({
    kind: fc.constant('shiftEnd' as const),
    which: fc.nat(),
    delta: fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
  }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('trailing' as const), count: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('truncate' as const), count: fc.integer({ min: 1, max: 9 }) }),
  fc.record({
    kind: fc.constant('dtype' as const),
    which: fc.nat(),
    dtype: fc.constantFrom('F8_E4M3', 'U64', 'f32', 'X', ''),
  }),
  fc.record({
    kind: fc.constant('shapeToken' as const),
    which: fc.nat(),
    token: fc.constantFrom('1.0', '1e0', '-1', '9007199254740993', '"2"', 'null'),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), which: fc.nat() }),
  fc.constant({ kind: 'leadingSpace' as const }),
  fc.record({
    kind: fc.constant('metadata' as const),
    value: fc.constantFrom('"ok"', 'null', '1', '{"x":"y"}', '["a"]'),
  }),
  fc.record({
    kind: fc.constant('lengthField' as const),
    delta: fc.integer({ min: -9, max: 9 }).filter((d) => d !== 0),
  }),
  fc.constant({ kind: 'extraField' as const }),
  fc.record({ kind: fc.constant('threeOffsets' as const), which: fc.nat() }),
);

const count = (s: Spec) => s.shape.reduce((a, b) => a * b, 1);
const size = (s: Spec) => count(s) * BYTES[s.dtype]!;

/** A file of `list` (data in list order, bytes i % 251) with `c` applied; whether it is valid; the data. */
function build(
  list: Spec[],
  c: Corruption,
): { bytes: Uint8Array; valid: boolean; code: string; data: Uint8Array } {
  const n = list.length;
  const at = (i: number) => (n === 0 ? -1 : i % n);
  const offsets: [number, number][] = [];
  let total = 0;
  for (const s of list) {
    offsets.push([total, total + size(s)]);
    total += size(s);
  }
  let valid = true;
  let code = 'INVALID_ARGUMENT';
  if (c.kind === 'shiftEnd' && n > 0) offsets[at(c.which)]![1] += c.delta;
  if (c.kind === 'swap' && n > 0) {
    const [a, b] = [at(c.a), at(c.b)];
    [offsets[a], offsets[b]] = [offsets[b]!, offsets[a]!];
    valid = size(list[a]!) === size(list[b]!);
  }
  const parts = list.map((s, i) => {
    let dtype = JSON.stringify(s.dtype);
    let shape = s.shape.map(String);
    let offs = offsets[i]!.map(String);
    let extra = '';
    if (i === at((c as { which?: number }).which ?? -1)) {
      if (c.kind === 'dtype') dtype = JSON.stringify(c.dtype);
      if (c.kind === 'shapeToken') shape = [c.token, ...shape];
      if (c.kind === 'threeOffsets') offs = [...offs, '0'];
    }
    if (c.kind === 'extraField' && i === 0) extra = ',"note":[1,{"x":null}]';
    return `${JSON.stringify(s.name)}:{"dtype":${dtype},"shape":[${shape.join(',')}],"data_offsets":[${offs.join(',')}]${extra}}`;
  });
  if (c.kind === 'duplicate' && n > 0) parts.push(parts[at(c.which)]!);
  if (c.kind === 'metadata') parts.unshift(`"__metadata__":${c.value}`);
  let header = `${c.kind === 'leadingSpace' ? ' ' : ''}{${parts.join(',')}}`;
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const json = new TextEncoder().encode(header);
  const data = Uint8Array.from({ length: total }, (_, i) => i % 251);
  let bytes = new Uint8Array(8 + json.length + total);
  new DataView(bytes.buffer).setBigUint64(
    0,
    BigInt(json.length + (c.kind === 'lengthField' ? c.delta : 0)),
    true,
  );
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  if (c.kind === 'trailing') bytes = Uint8Array.from([...bytes, ...new Uint8Array(c.count)]);
  if (c.kind === 'truncate') bytes = bytes.subarray(0, Math.max(0, bytes.length - c.count));
  // which corruptions break a rule (some need a tensor to act on, or a non-empty data section)
  if (['shiftEnd', 'duplicate', 'threeOffsets'].includes(c.kind) && n > 0) valid = false;
  if (c.kind === 'dtype' && n > 0) {
    valid = false;
    if (c.dtype === 'F8_E4M3' || c.dtype === 'U64') code = 'UNSUPPORTED';
  }
  if (c.kind === 'shapeToken' && n > 0) valid = false;
  if (['trailing', 'truncate', 'leadingSpace', 'lengthField'].includes(c.kind)) valid = false;
  if (c.kind === 'metadata') valid = c.value === 'null' || c.value === '{"x":"y"}';
  return { bytes, valid, code, data };
}

describe('hardening: safetensors files and checkpoints', () => {
  it('the reader accepts exactly the files that follow the format, and decodes them exactly', () => {
    checkProperty(
      FAMILY,
      'hand-built files with one corruption',
      [specs, corruption],
      (list, c) => {
        const { bytes, valid, code, data } = build(list, c);
        let parsed: ReturnType<typeof io.parseSafetensors> | null = null;
        const error = typedError(() => {
          parsed = io.parseSafetensors(bytes);
        }, ['INVALID_ARGUMENT', 'UNSUPPORTED']);
        expect(error === null, `${c.kind}: ${error?.message}`).toBe(valid);
        if (error) {
          expect(error.code).toBe(code);
          return;
        }
        const file = parsed! as ReturnType<typeof io.parseSafetensors>;
        expect(Object.getPrototypeOf(file.tensors)).toBeNull();
        expect(Object.keys(file.tensors).sort()).toEqual(list.map((s) => s.name).sort());
        if (c.kind === 'swap') return; // the data moved between tensors of one size
        let at = 0;
        for (const s of list) {
          const t = file.tensors[s.name]!;
          expect(t.shape).toEqual(s.shape);
          const raw = data.slice(at, at + size(s));
          at += size(s);
          if (s.dtype !== 'F16' && s.dtype !== 'BF16') {
            const d = t.data;
            expect(Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))).toEqual(Array.from(raw));
          } else expect(t.data.length).toBe(count(s));
        }
      },
      400,
    );
  });

  it('random damage to a valid file gives a typed error or a file that still tiles its data', () => {
    checkProperty(
      FAMILY,
      'random byte damage',
      [specs, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })],
      (list, edits) => {
        const bytes = build(list, { kind: 'none' }).bytes.slice();
        for (const [i, v] of edits) bytes[i % bytes.length] = v;
        let file: ReturnType<typeof io.parseSafetensors> | null = null;
        const error = typedError(() => {
          file = io.parseSafetensors(bytes);
        }, ['INVALID_ARGUMENT', 'UNSUPPORTED']);
        if (error) return;
        const tensors = Object.values((file! as ReturnType<typeof io.parseSafetensors>).tensors);
        const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        const covered = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype]!, 0);
        expect(covered).toBe(bytes.length - 8 - headerLen);
      },
      400,
    );
  });

  it('the writer refuses exactly what the reader would reject, and what it writes reads back', () => {
    const entry = fc.record({
      dtype: fc.constantFrom<unknown>('F32', 'I32', 'U8', 'F16', 'X', 3),
      shape: fc.oneof(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
        fc.constant<unknown>([-1]),
        fc.constant<unknown>([1.5]),
      ),
      kind: fc.constantFrom('matching', 'bytes', 'wrongKind', 'short'),
    });
    checkProperty(
      FAMILY,
      'writer against reader',
      [
        fc.uniqueArray(
          fc.tuple(
            fc.oneof(fc.constantFrom('__metadata__', '__proto__', 'w'), fc.string({ maxLength: 3 })),
            entry,
          ),
          { selector: (e) => e[0], maxLength: 4 },
        ),
        fc.option(
          fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.constant<unknown>(1))),
          { nil: undefined },
        ),
      ],
      (entries, metadata) => {
        let ok = true;
        const tensors = Object.fromEntries(
          entries.map(([name, e]) => {
            const shape = e.shape as number[];
            const shapeOk = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
            const bytes = typeof e.dtype === 'string' ? BYTES[e.dtype] : undefined;
            const n = shapeOk ? shape.reduce((a, b) => a * b, 1) : 1;
            const Kind =
              { F32: Float32Array, I32: Int32Array, U8: Uint8Array, F16: Uint16Array }[e.dtype as 'F32'] ??
              Float32Array;
            const data =
              e.kind === 'bytes'
                ? new Uint8Array(n * (bytes ?? 1))
                : e.kind === 'wrongKind'
                  ? new Float64Array(n)
                  : new Kind(e.kind === 'short' ? n + 1 : n);
            const kindOk =
              e.kind === 'matching' || e.kind === 'bytes' || (e.kind === 'wrongKind' && e.dtype === 'X');
            ok &&= name !== '__metadata__' && bytes !== undefined && shapeOk && kindOk && e.kind !== 'short';
            if (e.kind === 'wrongKind' && bytes !== undefined) ok = false;
            return [name, { dtype: e.dtype, shape, data }];
          }),
        );
        if (metadata && Object.values(metadata).some((v) => typeof v !== 'string')) ok = false;
        let bytes: Uint8Array | null = null;
        const error = typedError(() => {
          bytes = io.writeSafetensors(tensors as never, metadata as never);
        }, ['INVALID_ARGUMENT']);
        expect(error === null, error?.message).toBe(ok);
        if (!bytes) return;
        const back = io.parseSafetensors(bytes);
        expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
        expect({ ...back.metadata }).toEqual({ ...(metadata ?? {}) });
      },
      300,
    );
  });

  it('a flipped bit anywhere in a checkpoint (header or data) is detected', async () => {
    const w = dev.tensor(new Float32Array([0.5, -1, 2, 3]), [2, 2]);
    const b = dev.tensor(new Int32Array([7]), [1]);
    const bytes = await io.checkpointBytes({ model: { w, b }, step: 120, metadata: { lr: 0.003 } });
    expect(io.loadCheckpoint(bytes).step).toBe(120);
    await checkAsyncProperty(
      FAMILY,
      'checkpoint bit flips',
      [fc.integer({ min: 0, max: bytes.length * 8 - 1 })],
      async (bit) => {
        const damaged = bytes.slice();
        damaged[bit >> 3]! ^= 1 << (bit & 7);
        const error = typedError(() => io.loadCheckpoint(damaged), ['INVALID_ARGUMENT', 'UNSUPPORTED']);
        expect(error, `bit ${bit} of ${bytes.length * 8}`).not.toBeNull();
      },
      300,
    );
    w.dispose();
    b.dispose();
  });
});
