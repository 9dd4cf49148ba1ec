/**
 * The cache folder every package and app shares (docs/design.md: datasets come from npm/Debian packages into
 * a git-ignored cache). Its root is, in order:
 *   `MULTIHEAD_CACHE_DIR`; inside this repository `<repo>/.cache` (git-ignored; found by walking up to
 *   the package.json named `multihead`); else `$XDG_CACHE_HOME/multihead` or `~/.cache/multihead`.
 * Under it: `datasets/` (processed datasets), `checkpoints/` (trained task models), `demo/`.
 * Node only: in a browser there is no cache, and `cachedJSON` / `cachedBytes` just build.
 */
import { MultiheadError } from '../errors.js';
import { importAtRunTime } from '../run-time-import.js';
import { nodeFs, nodePath, writeFileAtomic } from './files.js';

export interface CacheOptions {
  /** Where processed datasets are kept (default `<cache root>/datasets`); `false` disables the cache. */
  cacheDir?: string | false;
}

const isNode = () => typeof globalThis.process?.versions?.node === 'string';

/** The cache root (see the file comment). */
export async function cacheRoot(): Promise<string> {
  const path = await nodePath();
  const fromEnv = process.env['MULTIHEAD_CACHE_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const fs = await nodeFs();
  // INIT_CWD: where the user ran `pnpm ...` (pnpm runs scripts from the package's own folder)
  for (let dir = path.resolve(process.env['INIT_CWD'] ?? process.cwd()); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'multihead') return path.join(dir, '.cache');
    } catch {
      // no readable package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) break;
  }
  const { homedir } = await importAtRunTime<typeof import('node:os')>('node:os');
  return path.join(process.env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache'), 'multihead');
}

/** `<cache root>/<name>`, e.g. `cacheDir('datasets')`. */
export async function cacheDir(name: string): Promise<string> {
  return (await nodePath()).join(await cacheRoot(), name);
}

/** The dataset cache folder: `options.cacheDir`, else `<cache root>/datasets`; null when disabled. */
async function datasetDir(options: CacheOptions): Promise<string | null> {
  const dir = options.cacheDir;
  if (dir === false || !isNode()) return null;
  if (dir !== undefined && typeof dir !== 'string') {
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      `cacheDir must be a directory path or false, got ${dir === null ? 'null' : typeof dir}`,
    );
  }
  return dir ?? (await cacheDir('datasets'));
}

/**
 * Returns the cached value of `name` (`<dataset dir>/<name>.json`), or builds, stores and returns it.
 * `name` carries a version (`spam-assassin.v1`): bump it when the processing changes, and old files are
 * simply not read. A crash mid-write cannot leave half a file (write, then rename).
 */
export async function cachedJSON<T>(
  name: string,
  options: CacheOptions,
  build: () => Promise<T>,
): Promise<T> {
  const raw = await cachedFile(`${name}.json`, options, async () =>
    new TextEncoder().encode(JSON.stringify(await build())),
  );
  return JSON.parse(new TextDecoder().decode(raw)) as T;
}

/** As cachedJSON, for binary data (`<dataset dir>/<name>`: give it an extension and a version). */
export function cachedBytes(
  name: string,
  options: CacheOptions,
  build: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  return cachedFile(name, options, build);
}

async function cachedFile(
  file: string,
  options: CacheOptions,
  build: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const dir = await datasetDir(options);
  if (dir === null) return build();
  const fs = await nodeFs();
  const path = (await nodePath()).join(dir, file);
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch {
    // missing or unreadable: rebuild it
  }
  const value = await build();
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path, value, 'cache');
  return value;
}
