/**
 * pnpm bench -- <matmul|softmax|attention|train|decode|cpu|vit|logmel|neighborhood|profile>... [--sizes 256,512] [--reps 5] [--write]
 * Prints one JSON line per row (profile: then its tables); --write updates that benchmark's section of
 * docs/benchmarks.md.
 */
import { fileURLToPath } from 'node:url';
import {
  type AnyBenchName,
  BENCHMARKS,
  cpuMachine,
  cpuSection,
  logmelSection,
  markdownSection,
  neighborhoodSection,
  openEnv,
  type ProfileRow,
  profileSection,
  profileTable,
  runBench,
  updateBenchmarksDoc,
  vitSection,
} from './index.js';

const DOC = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

function parse(argv: readonly string[]) {
  const names: AnyBenchName[] = [];
  let sizes: number[] | undefined;
  let reps: number | undefined;
  let write = false;
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sizes') sizes = value().split(',').map(Number);
    else if (a === '--reps') reps = Number(value());
    else if (a === '--write') write = true;
    else if ((BENCHMARKS as readonly string[]).includes(a)) names.push(a as AnyBenchName);
    else
      throw new Error(
        `unknown argument '${a}'; usage: bench <${BENCHMARKS.join('|')}>... [--sizes a,b] [--reps n] [--write]`,
      );
  }
  return { names: names.length ? names : [...BENCHMARKS], sizes, reps, write };
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  for (const name of opts.names) {
    const rows = await runBench(name, {
      ...(opts.sizes ? { sizes: opts.sizes } : {}),
      ...(opts.reps ? { reps: opts.reps } : {}),
      onProgress: (done, total) =>
        process.stderr.write(`\r${name}: ${done}/${total}${done === total ? '\n' : ''}`),
    });
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    if (name === 'profile') process.stdout.write(`\n${profileTable(rows as ProfileRow[])}\n\n`);
    if (opts.write) {
      const args = [
        name,
        ...(opts.sizes ? ['--sizes', opts.sizes.join(',')] : []),
        ...(opts.reps ? ['--reps', String(opts.reps)] : []),
      ];
      const command = `pnpm bench -- ${args.join(' ')} --write`;
      const section =
        name === 'cpu'
          ? cpuSection(rows, cpuMachine(), command)
          : name === 'vit'
            ? vitSection(rows, await openEnv(), command)
            : name === 'logmel'
              ? logmelSection(rows, await openEnv(), command)
              : name === 'neighborhood'
                ? neighborhoodSection(rows, await openEnv(), command)
                : name === 'profile'
                  ? profileSection(rows as ProfileRow[], await openEnv(), command)
                  : markdownSection(name, rows, await openEnv(), command);
      // report.ts keys the doc's markers by BenchName; they are plain `bench:<name>` comments for any name
      updateBenchmarksDoc(DOC, name, section);
      process.stderr.write(`${name}: wrote ${DOC}\n`);
    }
  }
  // Dawn's instance keeps the event loop alive
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
