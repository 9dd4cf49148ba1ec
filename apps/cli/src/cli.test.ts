import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = new URL('./main.ts', import.meta.url).pathname;
const cli = (...args: string[]) => run('npx', ['tsx', main, ...args], { timeout: 120_000 });

describe('multihead command', () => {
  it('info --json ends with one JSON line naming the backend and why', async () => {
    const { stdout } = await cli('info', '--backend', 'cpu', '--json');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]!);
    expect(info.backend).toBe('cpu');
    expect(info.reason).toMatch(/cpu backend requested/);
    expect(info.attentionKernels).toBeNull(); // WebGPU kernel families only
  });

  it('demo --json trains the names GPT for a time budget, evaluates it and writes an attention PNG', async () => {
    const out = await mkdtemp(join(tmpdir(), 'demo-'));
    try {
      const { stdout } = await cli('demo', '--backend', 'cpu', '--json', '--max-seconds', '3', '--out', out);
      const result = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(result.training.steps).toBeGreaterThan(0);
      expect(result.training.seconds).toBeLessThan(30);
      const losses = result.training.losses.map((l: { loss: number }) => l.loss);
      expect(losses[0]).toBeLessThan(Math.log(29) + 0.5); // about ln(vocab) at the start, falling
      expect(result.metrics).toMatchObject({ heldOutNames: 1684, checkpointSource: 'trained' });
      expect(result.metrics.bigramNll).toBeLessThan(2.5);
      expect(result.samples).toHaveLength(20);
      expect(result.attention.png).toBe(join(out, 'attention.png'));
      const png = await readFile(result.attention.png);
      expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
      expect(result.memory.liveTensors).toBe(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('tasks lists the text tasks with their kinds', async () => {
    const { stdout } = await cli('tasks', '--json');
    const { tasks } = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'text/names', kind: 'generate' }),
        expect.objectContaining({ id: 'text/moby', kind: 'generate' }),
      ]),
    );
  });

  it('eval text/names --json on the committed checkpoint beats the bigram', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'checkpoints-')); // nothing trained here: the committed one
    try {
      const { stdout } = await cli(
        'eval',
        'text/names',
        '--json',
        '--backend',
        'cpu',
        '--checkpoints',
        empty,
      );
      const { metrics } = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(metrics.checkpointSource).toBe('committed');
      expect(metrics.nll).toBeLessThan(metrics.bigramNll);
      expect(metrics.nll).toBeLessThanOrEqual(2.1);
      expect(metrics.novelFraction).toBeGreaterThan(0);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('generate text/names streams a name that starts with the prompt', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'checkpoints-'));
    try {
      const args = ['generate', 'text/names', '--prompt', 'ma', '--max-tokens', '8', '--seed', '1'];
      const { stdout } = await cli(...args, '--backend', 'cpu', '--checkpoints', empty);
      const name = stdout.trim();
      expect(name).toMatch(/^ma[a-z-]{0,8}$/);
      // the same seed, the same name
      expect((await cli(...args, '--backend', 'cpu', '--checkpoints', empty)).stdout.trim()).toBe(name);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('unknown tasks and commands a task cannot do are clear errors', async () => {
    await expect(cli('eval', 'text/nope', '--backend', 'cpu')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown task 'text\/nope'; expected one of: text\/names/),
    });
    await expect(cli('classify', 'text/names', '--text', 'hi', '--backend', 'cpu')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/text\/names is a generate task and cannot classify/),
    });
  });

  it('a bad --backend is a clear error and exit code 1', async () => {
    await expect(cli('info', '--backend', 'tpu')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--backend: got 'tpu'; expected 'auto', 'webgpu' or 'cpu'/),
    });
  });
});
