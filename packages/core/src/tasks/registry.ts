/**
 * One registry of tasks gathered from the modality packages' tables, and `defineTask`, which checks a
 * task's declaration once, where it is written, instead of in every app that lists it.
 */
import { fail } from '../errors.js';
import type { InputKind, OutputKind, PieceKind, PositionKind, Task, TaskKind } from './types.js';

const TASK_ID = /^[a-z][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/;
const KINDS: readonly TaskKind[] = ['classify', 'generate', 'regress', 'embed'];
const INPUTS: readonly InputKind[] = ['text', 'image', 'audio', 'sequence', 'graph', 'none'];
const OUTPUTS: readonly OutputKind[] = ['label', 'text', 'image', 'audio', 'midi', 'values', 'labels'];
const PIECES: readonly PieceKind[] = ['text', 'tokens', 'pixels', 'events'];
const POSITIONS: readonly PositionKind[] = ['tokens', 'patches', 'frames', 'events', 'residues', 'nodes'];

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): void {
  if (!allowed.includes(value as T)) {
    fail('INVALID_ARGUMENT', `${what}: got ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}`);
  }
}

/** Checks a task's declaration and returns it: ids `<modality>/<name>`, known kinds, unique params. */
export function defineTask<T extends Task>(task: T): T {
  const id = (task as { id?: unknown }).id;
  if (typeof id !== 'string' || !TASK_ID.test(id)) {
    fail(
      'INVALID_ARGUMENT',
      `defineTask: id ${JSON.stringify(id)} must be '<modality>/<name>' in lower case`,
    );
  }
  const where = `defineTask(${id})`;
  oneOf(`${where}: kind`, task.kind, KINDS);
  oneOf(`${where}: input.kind`, task.input?.kind, INPUTS);
  oneOf(`${where}: output.kind`, task.output?.kind, OUTPUTS);
  if (task.output.stream !== undefined) oneOf(`${where}: output.stream`, task.output.stream, PIECES);
  oneOf(`${where}: positions`, task.positions, POSITIONS);
  for (const method of ['train', 'evaluate', 'run', 'attention'] as const) {
    if (typeof task[method] !== 'function')
      fail('INVALID_ARGUMENT', `${where}: ${method} must be a function`);
  }
  const names = new Set<string>();
  for (const p of task.params ?? []) {
    if (names.has(p.name)) fail('INVALID_ARGUMENT', `${where}: param '${p.name}' is declared twice`);
    names.add(p.name);
    if (p.type === 'choice' && !(p.choices && p.choices.length > 0)) {
      fail('INVALID_ARGUMENT', `${where}: param '${p.name}' is a choice with no choices`);
    }
  }
  if (task.goal && !task.metrics.some((m) => m.name === task.goal!.metric)) {
    fail('INVALID_ARGUMENT', `${where}: goal metric '${task.goal.metric}' is not among its metrics`);
  }
  return task;
}

/** The modality of a task id: 'text/names' -> 'text'. */
export function taskModality(id: string): string {
  return id.slice(0, id.indexOf('/'));
}

/**
 * Tasks by id, in the order the tables were given. Apps build one from the tables of the packages
 * they depend on: `new TaskRegistry([TEXT_TASKS, VISION_TASKS])`.
 */
export class TaskRegistry {
  private readonly byId = new Map<string, Task>();

  constructor(tables: readonly (readonly Task[])[] = []) {
    for (const table of tables) this.add(...table);
  }

  /** Adds tasks (checked as `defineTask` does); an id already taken is an error. */
  add(...tasks: Task[]): this {
    for (const task of tasks) {
      defineTask(task);
      if (this.byId.has(task.id))
        fail('INVALID_ARGUMENT', `TaskRegistry: task '${task.id}' is registered twice`);
      this.byId.set(task.id, task);
    }
    return this;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The task with this id, or an error listing the ids there are. */
  get(id: string): Task {
    const task = this.byId.get(id);
    if (!task) {
      const known = [...this.byId.keys()];
      fail(
        'INVALID_ARGUMENT',
        `unknown task '${id}'; expected one of: ${known.join(', ') || '(none registered)'}`,
      );
    }
    return task;
  }

  /** Every task, or those of one modality. */
  list(modality?: string): Task[] {
    const all = [...this.byId.values()];
    return modality === undefined ? all : all.filter((t) => taskModality(t.id) === modality);
  }

  /** The modalities present, in registration order. */
  modalities(): string[] {
    return [...new Set([...this.byId.keys()].map(taskModality))];
  }
}
