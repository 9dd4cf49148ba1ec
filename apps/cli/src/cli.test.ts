import { execFile } from 'node:child_process';
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
  });

  it('demo --json trains a GPT to reverse sequences and checks ops', async () => {
    const { stdout } = await cli('demo', '--backend', 'cpu', '--json', '--seed', '3');
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    const losses = result.training.losses.map((l: { loss: number }) => l.loss);
    expect(losses.at(-1)).toBeLessThan(0.05);
    expect(losses[0]).toBeGreaterThan(losses.at(-1));
    expect(result.training.exactMatch).toBeGreaterThanOrEqual(0.8); // unseen problems, greedy decoding
    expect(result.timings.map((t: { op: string }) => t.op)).toContain('matmul');
    expect(result.memory.liveTensors).toBe(0);
  });

  it('a bad --backend is a clear error and exit code 1', async () => {
    await expect(cli('info', '--backend', 'tpu')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--backend: got 'tpu'; expected 'auto', 'webgpu' or 'cpu'/),
    });
  });
});
