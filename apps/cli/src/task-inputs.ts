/**
 * From flags to a task's input and parameters, using only what the task declares: `--input <file|text>`
 * becomes a file or a string as the task's input kind takes it; `--param name=value` and the sampling
 * flags become parameters checked against the task's table.
 */
import { existsSync, statSync } from 'node:fs';
import { type InputValue, type Task, tasks } from '@multihead/core';
import { userPath } from './paths.js';

/** Kinds that take a string as well as a file. */
const TEXT_LIKE = new Set(['text', 'sequence', 'graph']);

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

function describeKind(task: Task): string {
  const { kind, description, accept } = task.input;
  const files = accept?.length ? ` (${accept.join(', ')})` : '';
  if (kind === 'none') return 'no input';
  if (TEXT_LIKE.has(kind)) return `${kind}: ${description}; a string or a file${files}`;
  return `a ${kind} file${files}: ${description}`;
}

/**
 * The input for `task` from `--input`: for text, sequence and graph tasks an existing file is read and
 * anything else is the text itself; image and audio tasks take a file only.
 */
export function resolveInput(task: Task, raw: string | undefined): InputValue | undefined {
  const { kind } = task.input;
  if (raw === undefined) {
    if (kind !== 'none' && task.input.required !== false) {
      throw new Error(`${task.id} needs --input: ${describeKind(task)}`);
    }
    return undefined;
  }
  if (kind === 'none') throw new Error(`${task.id} takes no input; drop --input`);
  const path = userPath(raw);
  if (TEXT_LIKE.has(kind)) return isFile(path) ? { path } : raw;
  if (!isFile(path)) throw new Error(`${task.id} takes ${describeKind(task)}; '${raw}' is not a file`);
  return { path };
}

/** A flag value as the parameter's type wants it. */
function parseValue(task: Task, name: string, text: string, flag: string): number | boolean | string {
  const spec = task.params?.find((p) => p.name === name);
  if (!spec) {
    const names = (task.params ?? []).map((p) => p.name);
    throw new Error(
      `${flag}: ${task.id} takes no parameter '${name}'; its parameters: ${names.join(', ') || 'none'}`,
    );
  }
  if (spec.type === 'boolean') {
    if (text !== 'true' && text !== 'false')
      throw new Error(`${flag}: got '${text}'; expected true or false`);
    return text === 'true';
  }
  if (spec.type === 'choice') return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag}: got '${text}'; expected a number`);
  if (spec.type === 'integer' && !Number.isInteger(n))
    throw new Error(`${flag}: got '${text}'; expected an integer`);
  return n;
}

/** The flags that name a generation parameter directly. */
export const PARAM_FLAGS = {
  maxTokens: ['--max-tokens', 'maxNewTokens'],
  temperature: ['--temperature', 'temperature'],
  topK: ['--top-k', 'topK'],
  topP: ['--top-p', 'topP'],
} as const;

export type ParamFlagValues = { [K in keyof typeof PARAM_FLAGS]?: string } & { param?: string[] };

/** Parameters from `--param name=value` and the named flags; checked later by the task itself. */
export function resolveParams(task: Task, flags: ParamFlagValues): tasks.TaskParams {
  const params: tasks.TaskParams = {};
  for (const [key, [flag, name]] of Object.entries(PARAM_FLAGS) as [
    keyof typeof PARAM_FLAGS,
    readonly [string, string],
  ][]) {
    const text = flags[key];
    if (text !== undefined) params[name] = parseValue(task, name, text, flag);
  }
  for (const pair of flags.param ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--param: got '${pair}'; expected name=value`);
    const name = pair.slice(0, eq);
    params[name] = parseValue(task, name, pair.slice(eq + 1), `--param ${name}`);
  }
  return params;
}

/**
 * The task's own checks (ranges, choices) on each parameter, before the device opens, with errors that
 * name the flag the user typed (`--top-p`, `--param topP`) rather than the parameter.
 */
export function checkParams(task: Task, params: tasks.TaskParams, flags: ParamFlagValues): void {
  for (const [name, value] of Object.entries(params)) {
    const named = Object.entries(PARAM_FLAGS).find(
      ([key, [, param]]) => param === name && flags[key as keyof typeof PARAM_FLAGS] !== undefined,
    );
    const flag = named ? named[1][0] : `--param ${name}`;
    try {
      tasks.resolveParams(task, { [name]: value });
    } catch (e) {
      const message = (e as Error).message;
      const prefix = `${task.id}: parameter ${name}: `;
      throw new Error(`${flag}: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`);
    }
  }
}
