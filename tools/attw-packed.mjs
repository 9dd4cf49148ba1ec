#!/usr/bin/env node
// Runs @arethetypeswrong/cli on the tarball `pnpm pack` makes of the package in the current directory.
// `attw --pack` would run `npm pack`, which ignores publishConfig.exports (the workspace exports point at
// src/), so the check would judge a package nobody installs. Profile esm-only: the packages ship ESM only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'multihead-attw-'));
try {
  execFileSync('pnpm', ['pack', '--pack-destination', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`attw-packed: pnpm pack wrote no .tgz into ${dir}`);
  execFileSync('pnpm', ['exec', 'attw', '--profile', 'esm-only', join(dir, tarball)], { stdio: 'inherit' });
} catch (e) {
  process.exitCode = typeof e.status === 'number' ? e.status : 1;
  if (typeof e.status !== 'number') console.error(e.message);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
