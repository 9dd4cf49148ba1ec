/**
 * The steps the e2e files share: a served build (dist/, or the toy build in node_modules/.cache/), steps timed and reported, opening
 * a task from the list, running it and waiting for the result, and the requests that left the origin.
 */
import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StaticServer, serveStatic } from './server.js';

/** Serves `dir` (relative to the package) for the file's tests; prints the steps' timings at the end. */
export function useBuild(dir: string, built: string) {
  const root = new URL(`../${dir}/`, import.meta.url).pathname;
  const state: { server: StaticServer | null; timings: [string, number][] } = { server: null, timings: [] };
  beforeAll(async () => {
    if (!existsSync(`${root}index.html`))
      throw new Error(`${dir}/ is missing: run \`pnpm test\` (it runs ${built} first)`);
    state.server = await serveStatic(root);
  });
  afterAll(async () => {
    await state.server?.close();
    const lines = state.timings.map(([n, s]) => `  ${n.padEnd(72)} ${s.toFixed(1)} s`);
    console.log(`e2e timings (${dir}):\n${lines.join('\n')}`);
  });
  return {
    get origin(): string {
      return state.server!.origin;
    },
    /** A test that records how long it took. */
    step(name: string, fn: () => Promise<void>, timeout?: number) {
      it(
        name,
        async () => {
          const t0 = performance.now();
          try {
            await fn();
          } finally {
            state.timings.push([name, (performance.now() - t0) / 1000]);
          }
        },
        timeout,
      );
    },
    /** Records every request of the context; `foreign()` lists those that left the origin. */
    watch(context: BrowserContext) {
      const seen: string[] = [];
      context.on('request', (r) => seen.push(r.url()));
      return () => seen.filter((url) => !url.startsWith(state.server!.origin) && !/^(blob|data):/.test(url));
    },
  };
}

export async function openTask(page: Page, id: string): Promise<void> {
  await page.click(`nav button[data-task="${id}"]`);
  await page.waitForSelector(`[data-testid="task-heading"]:text-is("${id}")`);
  await page.waitForSelector('[data-testid="checkpoint-info"]:not(:text("Looking"))');
}

/** Runs the open task on its current input and waits for the result; returns the output's text. */
export async function runAndWait(page: Page, startWithKeyboard = false): Promise<string> {
  if (startWithKeyboard) await page.keyboard.press('Enter');
  else await page.click('[data-testid="run"]');
  // done, failed, or refused before it started (a missing input): all end the wait, errors fail the test
  await page.waitForSelector(
    '[data-testid="run-status"]:text-matches("Done|failed"), [data-testid="errors"] p',
    { timeout: 120_000 },
  );
  expect((await page.textContent('[data-testid="errors"]')) ?? '').toBe('');
  return (await page.textContent('[data-testid="output-text"]')) ?? '';
}

/** The on-screen box of an element, scrolled into view first (mouse events outside the viewport miss). */
export async function boxOf(page: Page, selector: string) {
  const element = page.locator(selector);
  await element.scrollIntoViewIfNeeded();
  const box = await element.boundingBox();
  if (!box) throw new Error(`${selector} has no box`);
  return box;
}
