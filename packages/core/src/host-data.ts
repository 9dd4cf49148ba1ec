/**
 * Host data for `device.tensor`, `full` and `scalar`, checked as what it is before anything is
 * allocated: nested arrays must be rectangular with numbers or booleans at the leaves, typed arrays
 * of a kind we store, and every value must fit the dtype it goes into (integers in range for i32 and
 * u32: nothing wraps or truncates silently). Errors name the element (`data[1][0]`), what came and
 * what was expected.
 */
import { checkDType, type DType, dtypeOfArray } from './dtype.js';
import { fail } from './errors.js';
import { checkShape, fmt, size } from './shape.js';

export type NestedNumbers = number | boolean | readonly NestedNumbers[];

/** What `device.tensor` uploads: flat values in row-major order, their dtype and shape. */
export interface HostValues {
  flat: ArrayLike<number>;
  dtype: DType;
  shape: number[];
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return Object.prototype.toString.call(value).slice(8, -1);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 20))}`;
  return typeof value === 'object' ? Object.prototype.toString.call(value).slice(8, -1) : typeof value;
}

/** Flattens rectangular nested arrays; the shape comes from the nesting, checked at every level. */
function flattenNested(data: unknown): { flat: number[]; shape: number[]; allBool: boolean } {
  const shape: number[] = [];
  for (let v: unknown = data; Array.isArray(v); v = v[0]) shape.push(v.length);
  const flat: number[] = [];
  let allBool = true;
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth < shape.length) {
      if (!Array.isArray(v) || v.length !== shape[depth]) {
        const got = Array.isArray(v) ? `${v.length} elements` : describe(v);
        fail(
          'SHAPE_MISMATCH',
          `tensor: data is ragged: ${path} has ${got}; expected ${shape[depth]} elements like its first sibling (shape ${fmt(shape)})`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
      return;
    }
    if (typeof v === 'boolean') flat.push(v ? 1 : 0);
    else if (typeof v === 'number') {
      allBool = false;
      flat.push(v);
    } else if (Array.isArray(v)) {
      fail('SHAPE_MISMATCH', `tensor: data is ragged: ${path} is an array where a number was expected`);
    } else {
      fail('INVALID_ARGUMENT', `tensor: ${path} is ${describe(v)}; expected a number or a boolean`);
    }
  };
  walk(data, 0, 'data');
  return { flat, shape, allBool: allBool && flat.length > 0 };
}

/** Refuses values an integer dtype cannot hold (i32/u32: integers in range; NaN and fractions too). */
export function checkValues(where: string, values: ArrayLike<number>, dtype: DType): void {
  const range = INT_RANGE[dtype];
  if (!range) return;
  // arrays of the dtype's own kind (or a narrower integer kind) hold only valid values
  if (dtype === 'i32' && (values instanceof Int32Array || values instanceof Int16Array)) return;
  if (values instanceof Int8Array || values instanceof Uint8Array || values instanceof Uint16Array) return;
  if (dtype === 'u32' && values instanceof Uint32Array) return;
  const [lo, hi] = range;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isInteger(v) && v >= lo && v <= hi) continue;
    const why = Number.isInteger(v) ? 'is out of range' : 'is not an integer';
    fail(
      'INVALID_ARGUMENT',
      `${where}[${i}] = ${v} ${why} for ${dtype}; expected integers in [${lo}, ${hi}] (cast floats explicitly with cast())`,
    );
  }
}

/** Checks `full`/`scalar` values: a number (or boolean) that fits the dtype. */
export function checkFillValue(where: string, value: unknown, dtype: DType): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number')
    fail('INVALID_ARGUMENT', `${where}: value is ${describe(value)}; expected a number`);
  checkValues(`${where}: value`, [value], dtype);
  return value;
}

/** Data, shape and dtype of `device.tensor(data, shape?, { dtype })`, all checked. */
export function hostValues(data: unknown, shapeArg: unknown, dtypeArg: unknown): HostValues {
  const dtypeGiven = dtypeArg === undefined ? undefined : checkDType('tensor: dtype', dtypeArg);
  let flat: ArrayLike<number>;
  let inferred: DType;
  let inferredShape: number[];
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      fail(
        'INVALID_ARGUMENT',
        `tensor: data is a ${describe(data)}; expected a Float32Array, Float64Array, Int32Array, Uint32Array, ` +
          'Int16Array, Uint16Array, Int8Array, Uint8Array or Uint8ClampedArray (64-bit integers: convert with Int32Array.from(data, Number))',
      );
    }
    flat = data as unknown as ArrayLike<number>;
    inferred = dtypeOfArray(flat);
    inferredShape = [flat.length];
  } else if (Array.isArray(data) || typeof data === 'number' || typeof data === 'boolean') {
    const nested = flattenNested(data);
    flat = nested.flat;
    inferred = nested.allBool ? 'bool' : 'f32';
    inferredShape = nested.shape;
  } else {
    return fail(
      'INVALID_ARGUMENT',
      `tensor: data is ${describe(data)}; expected a number, a boolean, (nested) arrays of them or a typed array`,
    );
  }
  const shape = shapeArg === undefined ? inferredShape : checkShape('tensor: shape', shapeArg);
  if (size(shape) !== flat.length) {
    fail(
      'SHAPE_MISMATCH',
      `tensor: ${flat.length} values do not fill shape ${fmt(shape)} (${size(shape)} elements)`,
    );
  }
  const dtype = dtypeGiven ?? inferred;
  checkValues('tensor: data', flat, dtype);
  return { flat, dtype, shape };
}
