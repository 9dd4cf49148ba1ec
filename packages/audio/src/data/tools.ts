/**
 * Running the Debian tools the datasets come from (espeak-ng, flite, abc2midi, dpkg), Node only: a
 * missing tool names the Debian package that provides it, work runs with a concurrency limit, and
 * scratch files live in a temporary folder that is always removed.
 */
import { invalidArgument, ioError } from '../io/errors.js';
import { nodeChildProcess, nodeFs, nodeOs, nodePath } from '../io/node.js';

export interface ToolOptions {
  /** The Debian package that installs the command, named in the error when it is missing. */
  debianPackage: string;
  /** Working directory. */
  cwd?: string;
  /** Kill the process after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** The message for a tool that is not installed. */
export function missingPackageMessage(command: string, debianPackage: string): string {
  return (
    `${command} is missing: install the Debian package ${debianPackage} ` +
    `(tools/data will install it; by hand: apt-get install -y ${debianPackage})`
  );
}

/** Runs `command args` (no shell) and returns its stdout as bytes; fails with IO_ERROR naming the package. */
export async function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions,
): Promise<Uint8Array> {
  const { execFile } = await nodeChildProcess();
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve(new Uint8Array(stdout));
        const code = (error as NodeJS.ErrnoException).code;
        try {
          if (code === 'ENOENT') ioError(missingPackageMessage(command, options.debianPackage));
          const said = new TextDecoder().decode(stderr).trim().split('\n').slice(-3).join(' | ');
          ioError(
            `${command} ${args.join(' ')} failed (${error.message.split('\n')[0]})${said ? `: ${said}` : ''}`,
          );
        } catch (typed) {
          reject(typed);
        }
      },
    );
  });
}

/** The files an installed Debian package owns (`dpkg -L`); a missing package names itself. */
export async function debianPackageFiles(debianPackage: string): Promise<string[]> {
  let listing: Uint8Array;
  try {
    listing = await runTool('dpkg', ['-L', debianPackage], { debianPackage: 'dpkg' });
  } catch (e) {
    // dpkg says "package 'x' is not installed" and exits 1
    if (/not installed/.test((e as Error).message))
      ioError(missingPackageMessage(`the data of ${debianPackage}`, debianPackage));
    throw e;
  }
  return new TextDecoder()
    .decode(listing)
    .split('\n')
    .filter((line) => line.startsWith('/'));
}

/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    invalidArgument(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (e) {
        failed = true; // the other workers take no new items
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Runs `fn` with a fresh temporary folder, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const fs = await nodeFs();
  const dir = await fs.mkdtemp((await nodePath()).join((await nodeOs()).tmpdir(), `multihead-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
