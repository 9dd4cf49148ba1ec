import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDevices } from '../../test/device.js';
import { expectError } from '../../test/errors.js';
import { mean, square } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { MultiheadError } from '../errors.js';
import { optim } from '../index.js';
import { Linear } from '../nn/layers.js';
import {
  checkGoal,
  collectRun,
  defineTask,
  folderStore,
  inputText,
  loadTaskCheckpoint,
  memoryStore,
  resolveParams,
  resultRun,
  saveTaskCheckpoint,
  streamingRun,
  TaskRegistry,
  trainForTask,
} from './index.js';
import type { Task, TaskContext } from './types.js';

let device: Device;
beforeAll(async () => {
  device = (await getDevices()).dev;
});

/** A declaration with methods that do nothing useful: the registry tests look at the table only. */
function declared(id: string, extra: Partial<Task> = {}): Task {
  const never = () => {
    throw new Error('not run in this test');
  };
  return {
    id,
    kind: 'classify',
    description: 'a test task',
    input: { kind: 'text', description: 'any text' },
    output: { kind: 'label', labels: ['a', 'b'] },
    metrics: [{ name: 'accuracy', description: 'share right', better: 'higher' }],
    positions: 'tokens',
    train: never,
    evaluate: never,
    run: never,
    attention: never,
    ...extra,
  };
}

describe('defineTask and TaskRegistry', () => {
  it('lists tasks by modality in registration order and finds them by id', () => {
    const registry = new TaskRegistry([[declared('text/a'), declared('text/b')], [declared('vision/c')]]);
    expect(registry.list().map((t) => t.id)).toEqual(['text/a', 'text/b', 'vision/c']);
    expect(registry.list('vision').map((t) => t.id)).toEqual(['vision/c']);
    expect(registry.modalities()).toEqual(['text', 'vision']);
    expect(registry.get('text/b').id).toBe('text/b');
    expectError(
      () => registry.get('text/z'),
      'INVALID_ARGUMENT',
      /unknown task 'text\/z'.*text\/a, text\/b, vision\/c/,
    );
    expectError(() => registry.add(declared('text/a')), 'INVALID_ARGUMENT', /registered twice/);
  });

  it('rejects declarations an app could not use, naming what is wrong', () => {
    expectError(() => defineTask(declared('names')), 'INVALID_ARGUMENT', /'<modality>\/<name>'/);
    expectError(
      () => defineTask(declared('text/x', { input: { kind: 'video' as 'text', description: '' } })),
      'INVALID_ARGUMENT',
      /input.kind: got "video"; expected one of text, image, audio, sequence, graph, none/,
    );
    expectError(
      () => defineTask(declared('text/x', { goal: { metric: 'f1', op: '>=', value: 0.9 } })),
      'INVALID_ARGUMENT',
      /goal metric 'f1' is not among its metrics/,
    );
    const dup = { name: 'k', type: 'integer', description: '' } as const;
    expectError(
      () => defineTask(declared('text/x', { params: [dup, dup] })),
      'INVALID_ARGUMENT',
      /declared twice/,
    );
  });
});

describe('parameters and inputs', () => {
  const task = declared('text/p', {
    params: [
      { name: 'temperature', type: 'number', description: '', default: 1, min: 0 },
      { name: 'topK', type: 'integer', description: '', min: 1 },
      { name: 'mode', type: 'choice', description: '', choices: ['a', 'b'], default: 'a' },
    ],
  });

  it('fills defaults and checks values against their specs', () => {
    expect(resolveParams(task, {})).toEqual({ temperature: 1, mode: 'a' });
    expect(resolveParams(task, { topK: 5, temperature: 0 })).toEqual({ temperature: 0, topK: 5, mode: 'a' });
    expectError(
      () => resolveParams(task, { topK: 2.5 }),
      'INVALID_ARGUMENT',
      /topK: got 2.5; expected an integer/,
    );
    expectError(() => resolveParams(task, { temperature: -1 }), 'INVALID_ARGUMENT', /\[0, inf\]/);
    expectError(() => resolveParams(task, { temperature: Number.NaN }), 'INVALID_ARGUMENT', /finite number/);
    expectError(() => resolveParams(task, { mode: 'c' }), 'INVALID_ARGUMENT', /expected one of a, b/);
    expectError(
      () => resolveParams(task, { topP: 0.9 }),
      'INVALID_ARGUMENT',
      /unknown parameter 'topP'; expected temperature, topK, mode/,
    );
  });

  it('reads text from a string, bytes, a Blob or a path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inputs-'));
    try {
      const path = join(dir, 'in.txt');
      await (await import('node:fs/promises')).writeFile(path, 'héllo');
      expect(await inputText('héllo', 't')).toBe('héllo');
      expect(await inputText({ bytes: new TextEncoder().encode('héllo') }, 't')).toBe('héllo');
      expect(await inputText(new Blob(['héllo']), 't')).toBe('héllo');
      expect(await inputText({ path }, 't')).toBe('héllo');
      await expect(inputText({ path: join(dir, 'missing.txt') }, 'text/x')).rejects.toThrow(
        /text\/x: cannot read .*missing.txt/,
      );
      await expect(inputText({ width: 2 }, 'text/x')).rejects.toThrow(
        /expected text .* got an object with width/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TaskRun', () => {
  const pieces = ['a', 'b', 'c'];
  const stream = () =>
    streamingRun(async function* () {
      for (const text of pieces) yield { kind: 'text', text } as const;
      return { kind: 'text', text: pieces.join('') } as const;
    });

  it('streams pieces, then resolves the result', async () => {
    const { pieces: got, output } = await collectRun(stream());
    expect(got.map((p) => (p.kind === 'text' ? p.text : ''))).toEqual(pieces);
    expect(output).toEqual({ kind: 'text', text: 'abc' });
  });

  it('awaiting the result alone drains the stream; a second iteration is an error', async () => {
    const run = stream();
    expect(await run.result).toEqual({ kind: 'text', text: 'abc' });
    expect(() => run[Symbol.asyncIterator]()).toThrow(/iterated once/);
  });

  it('a failure reaches the iteration and the result, and is never unhandled', async () => {
    const failing = () =>
      streamingRun(async function* () {
        yield { kind: 'text', text: 'x' } as const;
        throw new MultiheadError('INVALID_ARGUMENT', 'bad prompt');
      });
    const run = failing();
    await expect(collectRun(run)).rejects.toThrow('bad prompt');
    await expect(run.result).rejects.toThrow('bad prompt');
    failing()[Symbol.asyncIterator](); // started and dropped: nothing may surface as unhandled
    await expect(resultRun(async () => ({ kind: 'values', values: { y: 2 } })).result).resolves.toEqual({
      kind: 'values',
      values: { y: 2 },
    });
  });
});

describe('task checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'task-ckpt-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('save -> load through a folder store, with config and preprocessing in the metadata', async () => {
    const layer = new Linear(device, 3, 2, { seed: 1 });
    const ctx: TaskContext = { device, store: folderStore(dir) };
    const { location } = await saveTaskCheckpoint(ctx, 'test/linear', {
      model: layer.stateDict(),
      step: 7,
      config: { inFeatures: 3 },
      preprocessing: { scale: 2 },
      training: { seconds: 1 },
    });
    expect(location).toBe(join(dir, 'test/linear.safetensors'));
    expect((await readFile(location)).length).toBeGreaterThan(0);
    const loaded = await loadTaskCheckpoint<{ inFeatures: number }, { scale: number }>(ctx, {
      id: 'test/linear',
    });
    expect(loaded).toMatchObject({
      source: 'trained',
      location,
      step: 7,
      config: { inFeatures: 3 },
      preprocessing: { scale: 2 },
    });
    const weight = loaded.checkpoint.model['weight']!;
    expect(Array.from(weight.data as Float32Array)).toEqual(Array.from(await layer.weight.read()));
    layer.dispose();
  });

  it('prefers a given checkpoint, then the store, then the committed one; checks the task id', async () => {
    const layer = new Linear(device, 2, 2, { seed: 2 });
    const store = memoryStore();
    const ctx: TaskContext = { device, store };
    const save = (id: string, step: number) =>
      saveTaskCheckpoint({ device }, id, { model: layer.stateDict(), step, config: {}, preprocessing: {} });
    const committed = (await save('test/m', 1)).bytes;
    const task = { id: 'test/m', committedCheckpoint: async () => committed };
    expect((await loadTaskCheckpoint(ctx, task)).source).toBe('committed');
    await store.write('test/m', (await save('test/m', 2)).bytes);
    expect(await loadTaskCheckpoint(ctx, task)).toMatchObject({
      source: 'trained',
      step: 2,
      location: 'memory:test/m',
    });
    const given = (await save('test/m', 3)).bytes;
    expect(await loadTaskCheckpoint({ ...ctx, checkpoint: given }, task)).toMatchObject({
      source: 'given',
      step: 3,
    });
    const other = (await save('test/other', 4)).bytes;
    await expect(loadTaskCheckpoint({ device, checkpoint: other }, task)).rejects.toThrow(
      /test\/m: given is not a test\/m checkpoint \(its metadata names task "test\/other"\)/,
    );
    await expect(loadTaskCheckpoint({ device, store: memoryStore() }, { id: 'test/none' })).rejects.toThrow(
      /no checkpoint .*memory:test\/none.*multihead train test\/none/,
    );
    layer.dispose();
  });
});

describe('goals', () => {
  const goal = { metric: 'accuracy', op: '>=' as const, value: 0.9, beat: ['majority'] };
  it('meets a goal only above its bound and every named baseline', () => {
    expect(checkGoal(goal, { accuracy: 0.95 }, { majority: { accuracy: 0.5 } })?.met).toBe(true);
    expect(checkGoal(goal, { accuracy: 0.95 }, { majority: { accuracy: 0.96 } })?.met).toBe(false);
    expect(checkGoal(goal, { accuracy: 0.85 }, { majority: { accuracy: 0.5 } })?.met).toBe(false);
    expect(checkGoal(goal, { accuracy: 0.95 }, {})?.met).toBe(false); // the baseline must be there
    expect(checkGoal({ metric: 'nll', op: '<=', value: 2.1 }, { nll: 2.05 }, {})?.met).toBe(true);
    expect(checkGoal(undefined, {}, {})).toBeUndefined();
  });
});

describe('trainForTask', () => {
  const regression = () => {
    const layer = new Linear(device, 4, 1, { seed: 3 });
    const x = device.tensor(
      new Float32Array(32).map((_, i) => Math.sin(i)),
      [8, 4],
    );
    const opt = new optim.SGD(layer.parameters(), { lr: 0.05 });
    const loss = () => mean(square(layer.forward(x)));
    return {
      layer,
      x,
      opt,
      loss,
      dispose: () => {
        layer.dispose();
        x.dispose();
      },
    };
  };

  it('stops at the time budget and reports items per second in the task unit', async () => {
    const r = regression();
    const events: { step: number; unit: string }[] = [];
    const summary = await trainForTask(
      { device, onProgress: (p) => events.push(p) },
      {
        optimizer: r.opt,
        steps: 1_000_000,
        batch: () => null,
        loss: r.loss,
        maxSeconds: 0.3,
        unit: 'rows',
        items: () => 8,
        progressEvery: 5,
      },
    );
    expect(summary.outOfTime).toBe(true);
    expect(summary.steps).toBeLessThan(1_000_000);
    expect(summary.items).toBe(8 * summary.steps);
    expect(events.at(-1)).toMatchObject({ step: summary.steps, unit: 'rows' });
    r.opt.dispose();
    r.dispose();
  });

  it('a timer that aborts the signal stops training (the loop yields to the event loop)', async () => {
    const r = regression();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const summary = await trainForTask(
      { device, signal: controller.signal },
      { optimizer: r.opt, steps: 1_000_000, batch: () => null, loss: r.loss, unit: 'rows', progressEvery: 5 },
    );
    expect(summary.aborted).toBe(true);
    expect(summary.outOfTime).toBe(false);
    expect(Number.isFinite(summary.finalLoss)).toBe(true);
    r.opt.dispose();
    r.dispose();
  });
});
