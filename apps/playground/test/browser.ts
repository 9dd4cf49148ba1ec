/**
 * What the e2e test needs around playwright-core: Debian chromium with or without WebGPU (SwiftShader,
 * the flags of docs/design.md), screenshots under test-results/, keyboard-only navigation, a canvas's pixel
 * variance, and axe-core run inside the page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const QUIET = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const WEBGPU = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/** A fake microphone (a tone) that needs no permission prompt. */
export const FAKE_MICROPHONE = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];

export async function launch(webgpu: boolean, extra: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (docs/design.md)`);
  // playwright gives each launch a fresh temporary profile
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', ...QUIET, ...(webgpu ? WEBGPU : ['--disable-features=WebGPU']), ...extra],
  });
}

/** A 16-bit PCM mono WAV of a 440 Hz tone. */
export function toneWav(seconds = 0.2, sampleRate = 8000): Buffer {
  const n = Math.round(seconds * sampleRate);
  const bytes = Buffer.alloc(44 + 2 * n);
  bytes.write('RIFF', 0);
  bytes.writeUInt32LE(36 + 2 * n, 4);
  bytes.write('WAVEfmt ', 8);
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20); // PCM
  bytes.writeUInt16LE(1, 22); // mono
  bytes.writeUInt32LE(sampleRate, 24);
  bytes.writeUInt32LE(2 * sampleRate, 28);
  bytes.writeUInt16LE(2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36);
  bytes.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++)
    bytes.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate)), 44 + 2 * i);
  return bytes;
}

const SHOTS = new URL('../test-results/', import.meta.url);

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });
}

/** Presses Tab until the focused element matches `selector` (keyboard-only use); fails if it never does. */
export async function tabTo(page: Page, selector: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${max} presses of Tab never reached ${selector}`);
}

/** Variance of a canvas's RGB values (0 for a blank or flat canvas). */
export function canvasVariance(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (el) => {
    const canvas = el as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let sq = 0;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        sum += data[i + c]!;
        sq += data[i + c]! ** 2;
        n++;
      }
    }
    return sq / n - (sum / n) ** 2;
  });
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's serious and critical violations on the page as it is now: `rule: target` lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }>;
        };
      }
    ).axe;
    const { violations } = await axe.run();
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  });
}

/** Form controls with no accessible name (no label, aria-label or aria-labelledby; buttons: no text). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea, button'))
      .filter((el) => {
        const control = el as HTMLInputElement;
        if (control.type === 'hidden' || control.closest('[hidden]')) return false;
        if (control.getAttribute('aria-label') || control.getAttribute('aria-labelledby')) return false;
        if (el.tagName === 'BUTTON') return (el.textContent ?? '').trim() === '';
        return (control.labels?.length ?? 0) === 0;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}
