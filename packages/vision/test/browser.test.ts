/**
 * The browser path in headless Debian chromium (playwright-core): the package bundled for the browser
 * (tsup's build API, which runs esbuild; esbuild itself does not resolve from this package), served on
 * 127.0.0.1, decodes the committed images with the browser's decoders (createImageBitmap, <img>, canvas)
 * and preprocesses them with the same TypeScript as Node. Results are compared with the Node path (sharp).
 * No WebGPU is needed, so this runs in the cpu project.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImage,
  encodePng,
  heatmapOverlay,
  IMAGENET_MEAN,
  IMAGENET_STD,
  loadImage,
  type PreprocessOptions,
  preprocessImage,
} from '../src/index.js';
import { imagePath } from './oracle.js';

const CHROMIUM = '/usr/bin/chromium';
const IMAGES = [
  'sample.png',
  'sample-gray.png',
  'sample.gif',
  'sample.webp',
  'sample.jpg',
  'sample-exif6.jpg',
];

let server: Server;
let browser: Browser;
let page: Page;
let url = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const outDir = mkdtempSync(join(tmpdir(), 'vision-bundle-'));
  try {
    await build({
      entry: { vision: new URL('../src/index.ts', import.meta.url).pathname },
      format: ['esm'],
      platform: 'browser',
      target: 'es2022',
      outDir,
      noExternal: [/.*/], // @multihead/core too; sharp and node: modules are imported through variables
      dts: false,
      sourcemap: false,
      silent: true,
      config: false,
      splitting: false,
    });
    const js = readFileSync(join(outDir, 'vision.js'), 'utf8');
    expect(js).not.toMatch(/from ["']sharp["']|require\(["']sharp["']\)/);
    const html =
      '<!doctype html><script type="module">import * as v from "/vision.js"; window.vision = v; window.ready = true;</script>';
    server = createServer((req, res) => {
      const name = req.url?.slice(1) ?? '';
      if (name === 'vision.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else if (IMAGES.includes(name)) res.writeHead(200).end(readFileSync(imagePath(name)));
      else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    });
  } finally {
    rmSync(outDir, { recursive: true });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  // playwright gives the browser a fresh temporary profile; flags keep it off the network
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction('window.ready === true');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

/** Runs `fn(vision, arg)` in the page, where `vision` is the bundled package. */
function inPage<A, R>(
  fn: (vision: typeof import('../src/index.js'), arg: A) => Promise<R>,
  arg: A,
): Promise<R> {
  return page.evaluate(
    async ({ source, arg }) => {
      // the test's own function, sent as text to the page
      const f = new Function(`return (${source})`)();
      // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
      return f((window as any).vision, arg);
    },
    { source: fn.toString(), arg },
  ) as Promise<R>;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('the browser path (headless chromium) gives the numbers of the Node path (sharp)', () => {
  const options: [string, PreprocessOptions][] = [
    ['none', {}],
    ['resize 24, crop 20', { resize: 24, crop: 20 }],
    [
      'grayscale, area 12 x 9, crop',
      { channels: 'grayscale', resize: { width: 12, height: 9 }, resample: 'area', crop: 8 },
    ],
  ];
  it('sample.png: RGBA bytes equal, and each preprocessing within 1/255', async () => {
    const results = await inPage(async (vision, options) => {
      const bytes = new Uint8Array(await (await fetch('/sample.png')).arrayBuffer());
      const rgba = await vision.decodeImageInBrowser(bytes);
      return {
        rgba: Array.from(rgba.data),
        arrays: options.map(([, o]) => {
          const a = vision.preprocessImage(rgba, o);
          return { shape: a.shape, data: Array.from(a.data) };
        }),
      };
    }, options);
    const node = await decodeImage(imagePath('sample.png'));
    expect(maxDiff(results.rgba, node.data)).toBe(0);
    for (const [i, [name, o]] of options.entries()) {
      const expected = preprocessImage(node, o);
      expect([name, results.arrays[i]!.shape]).toEqual([name, expected.shape]);
      expect(maxDiff(results.arrays[i]!.data, expected.data)).toBeLessThanOrEqual(1 / 255);
    }
  });

  it('normalized with ImageNet statistics: within (1/255) / std', async () => {
    const o = { resize: 30, crop: { width: 28, height: 24 }, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    const data = await inPage(async (vision, o) => {
      const blob = await (await fetch('/sample.png')).blob();
      return Array.from((await vision.loadImageInBrowser(blob, o)).data);
    }, o);
    const expected = await loadImage(imagePath('sample.png'), o);
    expect(maxDiff(data, expected.data)).toBeLessThanOrEqual(1 / 255 / Math.min(...IMAGENET_STD));
  });

  it('every committed format, and <img>, canvas and ImageData sources', async () => {
    const decoded = await inPage(async (vision, files) => {
      const out: Record<string, number[]> = {};
      for (const file of files) {
        const bytes = new Uint8Array(await (await fetch(`/${file}`)).arrayBuffer());
        out[file] = Array.from((await vision.decodeImageInBrowser(bytes)).data);
      }
      const img = new Image();
      img.src = '/sample.png';
      await img.decode();
      out['<img>'] = Array.from(vision.rgbaFromBrowserImage(img).data);
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      out['<canvas>'] = Array.from(vision.rgbaFromBrowserImage(canvas).data);
      out.ImageData = Array.from(
        vision.rgbaFromBrowserImage(context.getImageData(0, 0, canvas.width, canvas.height)).data,
      );
      return out;
    }, IMAGES);
    for (const file of IMAGES) {
      const node = await decodeImage(imagePath(file));
      // lossless formats exactly; JPEG: chromium's libjpeg-turbo and sharp's mozjpeg may round the IDCT
      // apart by one (equal with chromium 156 and sharp 0.35)
      const tolerance = file.endsWith('.jpg') ? 1 : 0;
      expect([file, maxDiff(decoded[file]!, node.data) <= tolerance]).toEqual([file, true]);
    }
    const png = await decodeImage(imagePath('sample.png'));
    for (const source of ['<img>', '<canvas>', 'ImageData'])
      expect([source, maxDiff(decoded[source]!, png.data)]).toEqual([source, 0]);
  });

  it('semi-transparent pixels: alpha exact, colors within 128 / alpha levels (canvas premultiplies)', async () => {
    const width = 32;
    const height = 16;
    const data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      data.set([(i * 37) % 256, (i * 91) % 256, (i * 13 + 7) % 256, 8 + ((i * 5) % 248)], 4 * i);
    }
    const png = await encodePng({ width, height, data });
    const browserRgba = await inPage(
      async (vision, bytes) => Array.from((await vision.decodeImageInBrowser(Uint8Array.from(bytes))).data),
      Array.from(png),
    );
    const node = await decodeImage(png);
    expect(Array.from(node.data)).toEqual(Array.from(data));
    let worstOpaqueHalf = 0;
    for (let i = 0; i < width * height; i++) {
      const alpha = data[4 * i + 3]!;
      expect(browserRgba[4 * i + 3]).toBe(alpha);
      const diff = Math.max(...[0, 1, 2].map((c) => Math.abs(browserRgba[4 * i + c]! - data[4 * i + c]!)));
      expect([i, alpha, diff <= Math.ceil(128 / alpha)]).toEqual([i, alpha, true]);
      if (alpha >= 128) worstOpaqueHalf = Math.max(worstOpaqueHalf, diff);
    }
    expect(worstOpaqueHalf).toBeLessThanOrEqual(1);
  });

  it('encodePngInBrowser round-trips, and a heatmap overlay drawn in the page equals Node', async () => {
    const map = { data: [0, 0.2, 0.9, 0.4, 1, 0.1], height: 2, width: 3 };
    const result = await inPage(async (vision, map) => {
      const bytes = new Uint8Array(await (await fetch('/sample.png')).arrayBuffer());
      const rgba = await vision.decodeImageInBrowser(bytes);
      const overlay = vision.heatmapOverlay(rgba, map, { alpha: 0.6 });
      const png = await vision.encodePngInBrowser(overlay);
      const back = await vision.decodeImageInBrowser(png);
      return { png: Array.from(png), overlay: Array.from(overlay.data), back: Array.from(back.data) };
    }, map);
    const node = heatmapOverlay(await decodeImage(imagePath('sample.png')), map, { alpha: 0.6 });
    expect(maxDiff(result.overlay, node.data)).toBe(0);
    expect(maxDiff(result.back, node.data)).toBe(0);
    const fromBrowserPng = await decodeImage(Uint8Array.from(result.png));
    expect(maxDiff(fromBrowserPng.data, node.data)).toBe(0);
  });

  it('refuses huge, zero-sized, truncated and unknown images with MultiheadError', async () => {
    const errors = await inPage(async (vision) => {
      const bytes = new Uint8Array(await (await fetch('/sample.png')).arrayBuffer());
      const huge = bytes.slice();
      new DataView(huge.buffer).setUint32(16, 100000);
      new DataView(huge.buffer).setUint32(20, 100000);
      const zero = bytes.slice();
      new DataView(zero.buffer).setUint32(16, 0);
      const cases = {
        huge,
        zero,
        truncated: bytes.slice(0, bytes.length >> 1),
        text: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      };
      const out: Record<string, string> = {};
      for (const [name, input] of Object.entries(cases)) {
        try {
          await vision.decodeImageInBrowser(input);
          out[name] = 'decoded';
        } catch (error) {
          const e = error as { name: string; code: string; message: string };
          out[name] = `${e.name} ${e.code}: ${e.message}`;
        }
      }
      return out;
    }, null);
    expect(errors.huge).toMatch(
      /^MultiheadError INVALID_ARGUMENT: .*100000 x 100000 = 10000000000 pixels .* above maxPixels/,
    );
    expect(errors.zero).toMatch(/^MultiheadError INVALID_ARGUMENT: .*zero-sized \(png header: 0 x 29\)/);
    expect(errors.truncated).toMatch(/^MultiheadError INVALID_ARGUMENT: .*could not decode the png image/);
    expect(errors.text).toMatch(/^MultiheadError UNSUPPORTED: .*not a PNG, JPEG, WebP or GIF/);
  });
});
