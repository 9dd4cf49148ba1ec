/**
 * What the browser tests share: @multihead/core bundled for the browser, served on 127.0.0.1 to a page
 * that puts its exports on `window.mh`, and headless Debian chromium (tools/setup.sh installs it).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Flags every browser test passes; callers add their own (WebGPU adapter flags). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface CorePage {
  /** http://127.0.0.1:<port>: any path but `.../core.js` is the page; paths under /isolated/ are cross-origin isolated */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Bundles src/index.ts, serves it and launches chromium. The page sets `window.ready` once `window.mh`
 * holds the exports. Paths under /isolated/ get the COOP/COEP headers of cross-origin isolation
 * (SharedArrayBuffer, a shared WebAssembly.Memory, threads).
 */
export async function serveCoreInChromium(extraArgs: string[] = []): Promise<CorePage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run tools/setup.sh (Debian chromium)`);
  const bundle = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    target: 'es2022',
  });
  const js = bundle.outputFiles[0]!.text;
  const html =
    '<!doctype html><script type="module">import * as mh from "./core.js"; window.mh = mh; window.ready = true;</script>';
  const server: Server = createServer((req, res) => {
    const isolated = req.url?.startsWith('/isolated/') ?? false;
    const isJs = req.url?.endsWith('/core.js') ?? false;
    res.writeHead(200, {
      'content-type': isJs ? 'text/javascript' : 'text/html',
      ...(isolated
        ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
        : {}),
    });
    res.end(isJs ? js : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // playwright gives the browser a fresh temporary profile (docs/decisions.md "Platform pitfalls": a fresh user-data-dir)
  const browser = await chromium
    .launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] })
    .catch((e: unknown) => {
      server.close();
      throw e;
    });
  return {
    base,
    browser,
    async close() {
      await browser.close();
      server.close();
    },
  };
}
