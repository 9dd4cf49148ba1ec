/**
 * Node file helpers. Node built-ins are imported when called, through a variable, so browser bundlers
 * (esbuild, Vite) neither bundle nor warn about them and the package still loads in a page
 * (docs/decisions.md, "Workspace").
 */
import { MultiheadError } from '../errors.js';
import { importAtRunTime } from '../run-time-import.js';

export const nodeFs = () => importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');

export const nodePath = () => importAtRunTime<typeof import('node:path')>('node:path');

/**
 * Writes `bytes` to `path` atomically (Node): a temporary file in the same directory, flushed (fsync),
 * then renamed over `path`. A crash or error at any point leaves the previous file whole; the temporary
 * file is removed on error. `who` names the caller in the error.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  who = 'write',
): Promise<void> {
  const fs = await nodeFs();
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
  const tmp = `${dir}.${path.slice(slash + 1)}.${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new MultiheadError(
      'IO_ERROR',
      `${who}: writing ${path} failed (${(e as Error).message}); any previous file there is untouched`,
    );
  }
  // make the rename itself durable (POSIX); not every platform can open a directory
  try {
    const d = await fs.open(dir || '.', 'r');
    await d.sync().finally(() => d.close());
  } catch {}
}
