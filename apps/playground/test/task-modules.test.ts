/**
 * Every input widget and output view, through tasks the app has never heard of: the app built with
 * `PLAYGROUND_TASK_MODULES=test/toy-tasks.ts` (package.json: build:toy, into
 * node_modules/.cache/playground-toy), served and driven in headless chromium on the CPU backend with a
 * fake microphone. Drawing on the canvas, a WAV file and a recording, the graph editor, a FASTA record
 * and no input at all; streamed pixels, audio, per-node labels, values, MIDI events with playback;
 * attention maps over patches (with the rollout overlay), frames, nodes, residues and events; and
 * axe-core on those widgets.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { axeViolations, canvasVariance, FAKE_MICROPHONE, launch, screenshot, toneWav } from './browser.js';
import { boxOf, openTask, runAndWait, useBuild } from './flow.js';

const build = useBuild('node_modules/.cache/playground-toy', 'build:toy');
const { step } = build;

async function showAttention(page: Page, heads = 2): Promise<void> {
  await page.click('[data-testid="attention-show"]');
  await page.waitForSelector('[data-testid="heatmap"]');
  expect(await page.locator('[data-testid="heatmap"]').count()).toBe(heads);
  expect(await canvasVariance(page, '[data-testid="heatmap"]')).toBeGreaterThan(0);
}

describe('task modules: every input and output kind', () => {
  let browser: Browser;
  let page: Page;
  let foreign: () => string[];

  beforeAll(async () => {
    browser = await launch(false, FAKE_MICROPHONE);
    const context = await browser.newContext();
    foreign = build.watch(context);
    page = await context.newPage();
    await page.goto(`${build.origin}/`);
    await page.waitForSelector('[data-testid="cpu-notice"]', { timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });

  step(
    'image: draws on the canvas; the negative streams row by row; the rollout overlays the input',
    async () => {
      expect(await page.locator('nav button[data-task^="toy/"]').count()).toBe(5);
      await openTask(page, 'toy/invert');
      const box = await boxOf(page, '[data-testid="draw"]');
      await page.mouse.move(box.x + 40, box.y + 40);
      await page.mouse.down();
      await page.mouse.move(box.x + 180, box.y + 120, { steps: 8 });
      await page.mouse.up();
      await runAndWait(page);
      const size = await page.$eval('[data-testid="output-pixels"]', (c) => [
        (c as HTMLCanvasElement).width,
        (c as HTMLCanvasElement).height,
      ]);
      expect(size).toEqual([32, 32]);
      expect(await canvasVariance(page, '[data-testid="output-pixels"]')).toBeGreaterThan(0);
      await showAttention(page);
      expect(await canvasVariance(page, '[data-testid="rollout"]')).toBeGreaterThan(0);
      await screenshot(page, 'modules-1-image');
    },
  );

  step('audio: a WAV file and a microphone recording, each played back reversed', async () => {
    await openTask(page, 'toy/reverse-audio');
    await page.setInputFiles('[data-testid="audio-file"]', {
      name: 'tone.wav',
      mimeType: 'audio/wav',
      buffer: toneWav(),
    });
    await page.waitForSelector('[data-testid="audio-status"]:text("tone.wav")');
    await runAndWait(page);
    expect(await page.getAttribute('audio[aria-label="generated audio"]', 'src')).toMatch(/^blob:/);
    await showAttention(page);
    await page.click('[data-testid="record"]');
    await page.waitForSelector('[data-testid="audio-status"]:text("Recording")');
    await page.waitForTimeout(1000);
    await page.click('[data-testid="record"]');
    await page.waitForSelector('[data-testid="audio-status"]:text-matches("Recorded \\\\d")', {
      timeout: 20_000,
    });
    await runAndWait(page);
    expect(await page.getAttribute('audio[aria-label="generated audio"]', 'src')).toMatch(/^blob:/);
    await screenshot(page, 'modules-2-audio');
  });

  step('graph: the editor writes an edge list; labels per node; attention over nodes', async () => {
    await openTask(page, 'toy/degrees');
    const box = await boxOf(page, '[data-testid="graph-editor"]');
    const at = (x: number, y: number) =>
      page.mouse.click(box.x + (x * box.width) / 320, box.y + (y * box.height) / 200);
    for (const [x, y] of [
      [40, 40],
      [160, 120],
      [280, 40],
    ] as const)
      await at(x, y); // nodes 0, 1, 2
    await at(40, 40);
    await at(160, 120); // edge 0-1
    await at(160, 120);
    await at(280, 40); // edge 1-2
    expect(await page.inputValue('[data-testid="task-input"]')).toBe('0 1\n1 2');
    await runAndWait(page);
    const rows = await page.locator('[data-testid="output"] tbody tr').allTextContents();
    expect(rows.map((r) => r.slice(0, 5))).toEqual(['0leaf', '1hub-', '2leaf']);
    await showAttention(page);
    await screenshot(page, 'modules-3-graph');
  });

  step('sequence: a FASTA record gives values', async () => {
    await openTask(page, 'toy/composition');
    await page.fill('[data-testid="task-input"]', '>test protein\nMKVLAW');
    await runAndWait(page);
    const rows = await page.locator('[data-testid="output"] tbody tr').allTextContents();
    expect(rows).toEqual(['length6residues', 'hydrophobic0.8333']); // M V L A W of M K V L A W
    await showAttention(page);
  });

  step(
    'no input: MIDI events stream, the MIDI downloads, its rendering plays; axe-core is clean',
    async () => {
      await openTask(page, 'toy/scale');
      expect(await page.textContent('[data-testid="section-run"]')).toMatch(/This task takes no input/);
      const text = await runAndWait(page);
      expect(text).toMatch(/^C4 D4 E4 F4 G4 A4 B4 C5 \n16 MIDI events$/);
      expect(await page.locator('button:text("Download MIDI")').count()).toBe(1);
      expect(await page.getAttribute('audio[aria-label="the generated music"]', 'src')).toMatch(/^blob:/);
      await showAttention(page);
      await screenshot(page, 'modules-4-midi');
      for (const id of ['toy/invert', 'toy/reverse-audio', 'toy/degrees']) {
        await openTask(page, id);
        expect(await axeViolations(page), id).toEqual([]);
      }
      expect(foreign()).toEqual([]);
    },
  );
});
