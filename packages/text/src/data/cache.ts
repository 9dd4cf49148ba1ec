/**
 * Processed datasets are cached as JSON so a second run skips parsing thousands of files (design.md:
 * datasets come from npm/Debian packages into a git-ignored cache). Inside this repository the cache is
 * `<repo>/.cache/datasets` (git-ignored); elsewhere `node_modules/.cache/multihead/datasets` under the
 * working directory, the usual place for tool caches. `MULTIHEAD_CACHE_DIR` overrides both.
 */
import { describeType, invalidArgument } from '../errors.js';
import { nodeFs, nodePath } from '../node.js';

export interface CacheOptions {
  /** Where processed datasets are kept; `false` disables the cache (always rebuild). */
  cacheDir?: string | false;
}

export async function defaultCacheDir(): Promise<string> {
  const path = await nodePath();
  const fromEnv = process.env['MULTIHEAD_CACHE_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const fs = await nodeFs();
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'multihead') return path.join(dir, '.cache', 'datasets');
    } catch {
      // no package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) break;
  }
  return path.join(process.cwd(), 'node_modules', '.cache', 'multihead', 'datasets');
}

/**
 * Returns the cached value for `name`, or builds, stores and returns it. `name` carries a version
 * (`spam-assassin.v1`): bump it when the processing changes, and old files are simply not read.
 */
export async function cachedJSON<T>(
  name: string,
  options: CacheOptions,
  build: () => Promise<T>,
): Promise<T> {
  const cacheDir = options.cacheDir;
  if (cacheDir === false) return build();
  if (cacheDir !== undefined && typeof cacheDir !== 'string') {
    invalidArgument(`cacheDir must be a directory path or false, got ${describeType(cacheDir)}`);
  }
  const fs = await nodeFs();
  const path = await nodePath();
  const dir = cacheDir ?? (await defaultCacheDir());
  const file = path.join(dir, `${name}.json`);
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    // missing or unreadable (a crash mid-write cannot leave one, see below): rebuild it
  }
  const value = await build();
  await fs.mkdir(dir, { recursive: true });
  // write then rename: readers see the old file or the whole new one, never half of it
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(temp, JSON.stringify(value));
  await fs.rename(temp, file);
  return value;
}
