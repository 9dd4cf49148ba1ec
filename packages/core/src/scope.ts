/**
 * Tensor lifetimes: every tensor registers in the innermost `tidy` scope; leaving the scope disposes
 * what was created inside except what the function returned or `keep()` marked.
 */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const scopes: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes a tensor out of every open `tidy` scope: its owner (autograd, a module) disposes it. */
export function untrack(t: Disposable): void {
  for (const scope of scopes) scope.delete(t);
}

/** Marks a tensor to survive the enclosing `tidy` scopes. */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  return t;
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (typeof (value as Disposable).dispose === 'function' && 'disposed' in (value as object)) {
    out.add(value);
    return;
  }
  const items = Array.isArray(value)
    ? value
    : value instanceof Map
      ? [...value.values()]
      : Object.values(value);
  for (const item of items) collect(item, out, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (a tensor, or arrays and
 * plain objects of tensors) and those passed to `keep`. Async functions are not supported: an await
 * inside would let unrelated work register in this scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    for (const t of scope) if (!t.disposed && !kept.has(t)) t.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new TypeError('tidy: the function returned a Promise; tidy scopes are synchronous');
  }
  const survivors = new Set<unknown>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t) || kept.has(t)) parent?.add(t);
    else if (!t.disposed) t.dispose();
  }
  return result;
}
