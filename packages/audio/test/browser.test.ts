/**
 * The browser path in headless Debian chromium (playwright-core): the package is bundled for the browser
 * (tsup, i.e. esbuild), served on 127.0.0.1 and run in a page. Committed WAV files decoded there by
 * `decodeAudio` (an OfflineAudioContext at the file's own rate, so Web Audio does not resample) must
 * match `decodeWav` in Node up to chromium's integer scaling (positive 16-bit samples / 32767, ours
 * / 32768: at most 1.9e-5 apart on the speech clip; float and 24-bit files equal), and `prepareAudio`
 * must give the same 16 kHz samples from the same channels in both engines. The
 * microphone helper is fed a 440 Hz oscillator through a MediaStream, and chromium's fake capture device
 * through getUserMedia.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DecodedWav, decodeWav, prepareAudio } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURES = new URL('./fixtures/wav/', import.meta.url).pathname;
const FILES = [
  'seven-espeak-en-us.wav',
  'pcm24-stereo-44100.wav',
  'float32-stereo-16000.wav',
  'pcm8-mono-11025.wav',
];

/**
 * What chromium's decoder gives for sample i of channel c, from our decoding: chromium scales integer
 * samples asymmetrically (media/base/audio_sample_types.h: negatives / 2^(b-1), positives / (2^(b-1) - 1),
 * so both full scales reach +-1; 24-bit samples arrive as 32-bit, shifted left by 8), we divide both by
 * 2^(b-1) (libsndfile, soundfile, torchaudio). Float files are the same on both sides.
 */
function chromiumScaling(node: DecodedWav, c: number, i: number): number {
  const x = node.channels[c]![i]!;
  if (node.format.encoding === 'float' || x <= 0) return x;
  const bits = node.format.bitsPerSample === 24 ? 32 : node.format.bitsPerSample;
  const full = 2 ** (bits - 1);
  return Math.fround(Math.round(x * full) / (full - 1));
}

describe('in headless chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  const outDir = mkdtempSync(join(tmpdir(), 'multihead-audio-bundle-'));

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run tools/setup.sh (Debian chromium)`);
    await build({
      entry: { audio: new URL('../src/index.ts', import.meta.url).pathname },
      format: ['esm'],
      platform: 'browser',
      target: 'es2022',
      outDir,
      noExternal: [/.*/],
      dts: false,
      splitting: false,
      sourcemap: false,
      silent: true,
      config: false,
    });
    const js = readFileSync(join(outDir, 'audio.js'), 'utf8');
    const html =
      '<!doctype html><script type="module">import * as mh from "/audio.js"; window.mh = mh; window.ready = true;</script>';
    server = createServer((req, res) => {
      const isJs = req.url === '/audio.js';
      res.writeHead(200, { 'content-type': isJs ? 'text/javascript' : 'text/html' });
      res.end(isJs ? js : html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    // core's browser test flags without the WebGPU ones (docs/design.md), plus audio without a user gesture
    // and chromium's fake capture device in place of a microphone
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
      ],
    });
    page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction('window.ready === true');
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it("decodeAudio (OfflineAudioContext) matches decodeWav up to chromium's scaling; prepareAudio agrees to 1e-6", async () => {
    const files = Object.fromEntries(FILES.map((name) => [name, Array.from(readFileSync(FIXTURES + name))]));
    const decoded = await page.evaluate(async (files) => {
      // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
      const mh = (window as any).mh;
      const out: Record<string, { sampleRate: number; channels: number[][]; at16k: number[] }> = {};
      for (const [name, bytes] of Object.entries(files)) {
        const clip = await mh.decodeAudio(new Uint8Array(bytes));
        const at16k = mh.prepareAudio(clip, { sampleRate: 16000 }).samples;
        out[name] = {
          sampleRate: clip.sampleRate,
          channels: clip.channels.map((c: Float32Array) => Array.from(c)),
          at16k: Array.from(at16k),
        };
      }
      return out;
    }, files);
    for (const name of FILES) {
      const node = decodeWav(new Uint8Array(readFileSync(FIXTURES + name)));
      const inBrowser = decoded[name]!;
      expect(inBrowser.sampleRate, name).toBe(node.sampleRate);
      expect(inBrowser.channels.length, name).toBe(node.channels.length);
      const browserChannels = inBrowser.channels.map((channel) => new Float32Array(channel));
      let worstDecode = 0;
      let worstOurs = 0;
      browserChannels.forEach((channel, c) => {
        expect(channel.length, name).toBe(node.format.frames);
        channel.forEach((x, i) => {
          worstDecode = Math.max(worstDecode, Math.abs(x - chromiumScaling(node, c, i)));
          worstOurs = Math.max(worstOurs, Math.abs(x - node.channels[c]![i]!));
        });
      });
      // one float32 step at full scale: chromium multiplies by a rounded reciprocal
      expect(worstDecode, name).toBeLessThanOrEqual(2 ** -24);
      // the same pipeline code on the same input gives the same 16 kHz samples in both engines
      const at16k = prepareAudio(
        { sampleRate: inBrowser.sampleRate, channels: browserChannels },
        { sampleRate: 16000 },
      );
      expect(inBrowser.at16k.length, name).toBe(at16k.samples.length);
      const worst = inBrowser.at16k.reduce((m, x, i) => Math.max(m, Math.abs(x - at16k.samples[i]!)), 0);
      expect(worst, name).toBeLessThanOrEqual(1e-6);
      console.log(
        `[browser] ${name}: |chromium - ours| <= ${worstOurs.toExponential(2)}, ` +
          `|chromium - model| <= ${worstDecode.toExponential(2)}, prepareAudio |browser - node| <= ${worst.toExponential(2)}`,
      );
    }
  });

  for (const method of ['audio-worklet', 'script-processor'] as const) {
    it(`captureMicrophone (${method}) yields fixed-size mono chunks of a 440 Hz MediaStream`, async () => {
      const captured = await page.evaluate(async (method) => {
        // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
        const mh = (window as any).mh;
        const context = new AudioContext({ sampleRate: 48000 });
        const oscillator = new OscillatorNode(context, { frequency: 440 });
        const gain = new GainNode(context, { gain: 0.5 });
        const destination = context.createMediaStreamDestination();
        oscillator.connect(gain).connect(destination);
        oscillator.start();
        const capture = await mh.captureMicrophone({
          stream: destination.stream,
          context,
          chunkSize: 2048,
          method,
        });
        const chunks: number[][] = [];
        for await (const chunk of capture.chunks()) {
          chunks.push(Array.from(chunk as Float32Array));
          if (chunks.length === 16) break;
        }
        await capture.stop();
        await context.close();
        return { sampleRate: capture.sampleRate, method: capture.method, chunks };
      }, method);
      expect(captured).toMatchObject({ sampleRate: 48000, method });
      expect(captured.chunks.every((c) => c.length === 2048)).toBe(true);
      // the last half second: a 440 Hz sine of amplitude 0.5 (zero crossings and peak)
      const tail = captured.chunks.slice(4).flat();
      let crossings = 0;
      for (let i = 1; i < tail.length; i++) if (tail[i - 1]! < 0 !== tail[i]! < 0) crossings++;
      const frequency = crossings / 2 / (tail.length / 48000);
      expect(Math.abs(frequency - 440)).toBeLessThan(5);
      const peak = tail.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(Math.abs(peak - 0.5)).toBeLessThan(0.02);
    });
  }

  it('captureMicrophone through getUserMedia (chromium fake device) stops cleanly', async () => {
    const captured = await page.evaluate(async () => {
      // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
      const mh = (window as any).mh;
      const capture = await mh.captureMicrophone({ chunkSize: 4800 });
      const chunks: number[][] = [];
      const reading = (async () => {
        for await (const chunk of capture.chunks()) chunks.push(Array.from(chunk as Float32Array));
      })();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await capture.stop();
      await reading; // the iteration ends after stop()
      return { sampleRate: capture.sampleRate, method: capture.method, chunks };
    });
    expect(captured.method).toBe('audio-worklet');
    expect(captured.sampleRate).toBeGreaterThanOrEqual(8000);
    expect(captured.chunks.length).toBeGreaterThanOrEqual(5);
    expect(captured.chunks.slice(0, -1).every((c) => c.length === 4800)).toBe(true);
    const peak = captured.chunks.flat().reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak).toBeGreaterThan(0.1); // the fake device beeps twice a second
    console.log(
      `[browser] fake device: ${captured.chunks.length} chunks at ${captured.sampleRate} Hz, peak ${peak}`,
    );
  });
});
