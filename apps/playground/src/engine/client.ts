/**
 * The page's side of the engine worker: one request, one promise (plus streamed pieces, progress and
 * log lines through callbacks); training pause/resume/stop through a shared control word when the page
 * is cross-origin isolated (the worker waits on it between steps), else stop by cancelling the request.
 */
import type { TaskPiece, tasks } from '@multihead/core';
import { CONTROL, type Envelope, type Event, type Request, type Results } from './protocol.js';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface RequestHandlers {
  piece?: (piece: TaskPiece) => void;
  progress?: (progress: tasks.TrainProgressEvent, paused: boolean) => void;
  log?: (line: string) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  handlers: RequestHandlers;
}

export interface Call<T> {
  id: number;
  result: Promise<T>;
}

export class Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Training control word shared with the worker (null when the page is not cross-origin isolated). */
  private readonly control: Int32Array | null;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'multihead-engine',
    });
    this.control = globalThis.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
    this.worker.onmessage = (e: MessageEvent<Event>) => this.receive(e.data);
    this.worker.onerror = (e) =>
      this.failAll(new EngineError(`the engine worker failed: ${e.message}`, null));
  }

  /** The shared buffer to hand the worker at init. */
  get controlBuffer(): SharedArrayBuffer | null {
    return (this.control?.buffer as SharedArrayBuffer | undefined) ?? null;
  }

  /** Pause needs the shared control word (a cross-origin isolated page). */
  get canPause(): boolean {
    return this.control !== null;
  }

  send<K extends Request['type']>(
    request: Extract<Request, { type: K }>,
    handlers: RequestHandlers = {},
  ): Call<Results[K]> {
    const id = this.nextId++;
    const result = new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, handlers });
    });
    const envelope = { ...request, id } as Envelope;
    this.worker.postMessage(envelope);
    return { id, result };
  }

  cancel(target: number): void {
    this.send({ type: 'cancel', target });
  }

  /** Sets the training control word: the worker reads it between steps. */
  setTraining(state: keyof typeof CONTROL): void {
    if (!this.control) return;
    Atomics.store(this.control, 0, CONTROL[state]);
    Atomics.notify(this.control, 0);
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new EngineError('the engine was restarted', null));
  }

  private receive(event: Event): void {
    const pending = this.pending.get(event.id);
    if (!pending) return;
    switch (event.type) {
      case 'piece':
        pending.handlers.piece?.(event.piece);
        break;
      case 'progress':
        pending.handlers.progress?.(event.progress, event.paused);
        break;
      case 'log':
        pending.handlers.log?.(event.line);
        break;
      case 'result':
        this.pending.delete(event.id);
        pending.resolve(event.value);
        break;
      case 'error':
        this.pending.delete(event.id);
        pending.reject(new EngineError(event.message, event.code));
        break;
    }
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
