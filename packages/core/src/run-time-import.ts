/**
 * Importing at run time what a bundler must not follow: Node built-ins (the package still loads in a
 * page) and optional dependencies. A leaf module, so any layer may use it; exported as `io.importAtRunTime`
 * and `io.importOptional`.
 */
import { MultiheadError } from './errors.js';

/**
 * `import(specifier)` with the specifier in a variable: what keeps bundlers from following it
 * (docs/decisions.md "Platform pitfalls"). For Node built-ins: a package name resolves from this file,
 * so a package imports its own dependencies itself (see `importOptional`).
 */
export function importAtRunTime<M>(specifier: string): Promise<M> {
  return import(/* @vite-ignore */ specifier);
}

/**
 * An optional dependency (docs/decisions.md "Optional dependencies"): `load()`, the caller's own
 * variable-specifier import of `name` (a package name resolves from the package that imports it), or, when
 * `name` is not installed, a MISSING_DEPENDENCY error with the message `missing`, which says how to
 * install it. Any other failure (the package is there but throws) is passed on as it is.
 */
export async function importOptional<M>(
  name: string,
  load: () => Promise<unknown>,
  missing: string,
): Promise<M> {
  try {
    return (await load()) as M;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes(`'${name}'`)) throw e;
    throw new MultiheadError('MISSING_DEPENDENCY', missing);
  }
}
