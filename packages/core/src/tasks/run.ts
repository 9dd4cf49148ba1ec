/**
 * Building `TaskRun`s: a stream of pieces with a final result (generation), or a result alone.
 * Awaiting `result` without iterating drains the stream; a failure reaches both the iteration and
 * `result`, and an unawaited `result` never becomes an unhandled rejection.
 */
import { fail } from '../errors.js';
import type { TaskOutput, TaskPiece, TaskRun } from './types.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // handled here: callers who only iterate see the error there
  return { promise, resolve, reject };
}

/** A run whose `generate()` yields pieces and returns the output; nothing starts until it is read. */
export function streamingRun(generate: () => AsyncGenerator<TaskPiece, TaskOutput, undefined>): TaskRun {
  const done = deferred<TaskOutput>();
  let started = false;
  async function* pieces(): AsyncGenerator<TaskPiece, void, undefined> {
    try {
      const gen = generate();
      for (;;) {
        const next = await gen.next();
        if (next.done) {
          done.resolve(next.value);
          return;
        }
        yield next.value;
      }
    } catch (error) {
      done.reject(error);
      throw error;
    }
  }
  return {
    [Symbol.asyncIterator]() {
      if (started) fail('INVALID_ARGUMENT', 'TaskRun: a run can be iterated once (or its result awaited)');
      started = true;
      return pieces();
    },
    get result() {
      if (!started) {
        started = true;
        void (async () => {
          for await (const _ of pieces()); // drain; the outcome settles `done`
        })().catch(() => {});
      }
      return done.promise;
    },
  };
}

/** A run with a result and no stream (classification, regression): iterating yields nothing. */
export function resultRun(produce: () => Promise<TaskOutput>): TaskRun {
  // biome-ignore lint/correctness/useYield: a run without pieces
  return streamingRun(async function* () {
    return await produce();
  });
}

/** Runs `task.run` to its result, collecting the pieces (tests, scripts). */
export async function collectRun(run: TaskRun): Promise<{ pieces: TaskPiece[]; output: TaskOutput }> {
  const pieces: TaskPiece[] = [];
  for await (const piece of run) pieces.push(piece);
  return { pieces, output: await run.result };
}
