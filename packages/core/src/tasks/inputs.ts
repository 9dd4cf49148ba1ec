/**
 * Reading a task's input and parameters the same way in every task: files from a path (Node), bytes
 * or a browser Blob; text as a string or a UTF-8 file; parameters checked against the task's table.
 */
import { fail } from '../errors.js';
import { nodeFs } from '../io/files.js';
import type { FileInput, InputValue, ParamSpec, Task, TaskParams } from './types.js';

export function isFileInput(value: unknown): value is FileInput {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['path'] === 'string' ||
    v['bytes'] instanceof Uint8Array ||
    typeof v['arrayBuffer'] === 'function'
  );
}

/** What a value is, for messages: 'a string', 'a file (cat.png)', 'an object with width, height, data'. */
export function describeInput(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (isFileInput(value)) {
    const v = value as { path?: string; name?: string };
    return `a file (${v.path ?? v.name ?? 'bytes'})`;
  }
  if (typeof value === 'object')
    return `an object with ${Object.keys(value).slice(0, 5).join(', ') || 'no keys'}`;
  return `a ${typeof value}`;
}

/** The bytes of a file input, and a name for messages. `who` names the caller in errors. */
export async function inputBytes(
  value: FileInput,
  who: string,
): Promise<{ bytes: Uint8Array; name: string }> {
  if ('path' in value && typeof value.path === 'string') {
    const fs = await nodeFs();
    try {
      return { bytes: new Uint8Array(await fs.readFile(value.path)), name: value.path };
    } catch (e) {
      fail('IO_ERROR', `${who}: cannot read ${value.path} (${(e as Error).message})`);
    }
  }
  if ('bytes' in value && value.bytes instanceof Uint8Array)
    return { bytes: value.bytes, name: value.name ?? 'bytes' };
  if ('arrayBuffer' in value && typeof value.arrayBuffer === 'function') {
    return { bytes: new Uint8Array(await value.arrayBuffer()), name: value.name ?? 'file' };
  }
  return fail(
    'INVALID_ARGUMENT',
    `${who}: expected a file ({ path }, { bytes } or a Blob), got ${describeInput(value)}`,
  );
}

/** A text input: the string itself, or a file's UTF-8 text. */
export async function inputText(value: InputValue | undefined, who: string): Promise<string> {
  if (typeof value === 'string') return value;
  if (isFileInput(value)) return new TextDecoder().decode((await inputBytes(value, who)).bytes);
  return fail(
    'INVALID_ARGUMENT',
    `${who}: expected text (a string or a text file), got ${describeInput(value)}`,
  );
}

function checkParam(task: string, spec: ParamSpec, value: unknown): number | boolean | string {
  const where = `${task}: parameter ${spec.name}`;
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean')
        fail('INVALID_ARGUMENT', `${where}: got ${JSON.stringify(value)}; expected true or false`);
      return value;
    case 'choice':
      if (typeof value !== 'string' || !spec.choices!.includes(value)) {
        fail(
          'INVALID_ARGUMENT',
          `${where}: got ${JSON.stringify(value)}; expected one of ${spec.choices!.join(', ')}`,
        );
      }
      return value;
    default: {
      const integer = spec.type === 'integer';
      if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
        fail(
          'INVALID_ARGUMENT',
          `${where}: got ${JSON.stringify(value)}; expected ${integer ? 'an integer' : 'a finite number'}`,
        );
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        fail(
          'INVALID_ARGUMENT',
          `${where}: got ${value}; expected a value in [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`,
        );
      }
      return value;
    }
  }
}

/** The sampling temperature every generating task takes (softmax of logits / temperature; 0 picks the likeliest). */
export const temperatureParam: ParamSpec = Object.freeze({
  name: 'temperature',
  type: 'number',
  min: 0,
  max: 10,
  default: 1,
  description: '0 = greedy; higher = more varied',
});

/**
 * The task's parameters with defaults filled in, each checked against its spec; an unknown name is an
 * error listing the names there are.
 */
export function resolveParams(task: Pick<Task, 'id' | 'params'>, params: TaskParams = {}): TaskParams {
  const specs = task.params ?? [];
  const out: TaskParams = {};
  for (const name of Object.keys(params)) {
    if (!specs.some((s) => s.name === name)) {
      fail(
        'INVALID_ARGUMENT',
        `${task.id}: unknown parameter '${name}'; expected ${specs.map((s) => s.name).join(', ') || 'none'}`,
      );
    }
  }
  for (const spec of specs) {
    const value = Object.hasOwn(params, spec.name) ? params[spec.name] : spec.default;
    if (value !== undefined) out[spec.name] = checkParam(task.id, spec, value);
  }
  return out;
}
