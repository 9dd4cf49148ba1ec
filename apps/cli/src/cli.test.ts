import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
      expect(result.report).toMatchObject({ examples: 1684, checkpoint: { source: 'trained' } });
      expect(result.report.baselines.bigram.nll).toBeLessThan(2.5);
      expect(result.samples).toHaveLength(20);
      expect(result.attention.png).toBe(join(out, 'attention.png'));
      const png = await readFile(result.attention.png);
      expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
      expect(result.memory.liveTensors).toBe(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('tasks lists every modality with kinds, inputs and outputs', async () => {
    const { stdout } = await cli('tasks', '--json');
    const { tasks, modalities } = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(modalities).toEqual(['text', 'vision', 'audio', 'graph']);
    expect(tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'text/names',
          kind: 'generate',
          input: 'text',
          output: 'text (streams text)',
        }),
        expect.objectContaining({ id: 'text/moby', kind: 'generate' }),
        expect.objectContaining({ id: 'text/spam', kind: 'classify', input: 'text', output: 'label' }),
        expect.objectContaining({ id: 'vision/fashion', kind: 'classify', input: 'image', output: 'label' }),
      ]),
    );
  });

  it('a task from a module of its own is listed, trained, evaluated, run and drawn (--tasks-from)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toy-'));
    const toy = ['--tasks-from', new URL('../test/toy-tasks.ts', import.meta.url).pathname];
    const json = async (...args: string[]) =>
      JSON.parse((await cli(...args, ...toy, '--json')).stdout.trim().split('\n').pop()!);
    try {
      const { tasks } = await json('tasks');
      expect(tasks.map((t: { id: string }) => t.id)).toContain('toy/majority');
      const common = ['--backend', 'cpu', '--checkpoints', dir];
      const trained = await json('train', 'toy/majority', '--steps', '60', ...common);
      expect(trained).toMatchObject({ task: 'toy/majority', steps: 60, unit: 'strings' });
      const report = await json('eval', 'toy/majority', ...common);
      expect(report).toMatchObject({
        task: 'toy/majority',
        split: { name: 'held-out' },
        checkpoint: { source: 'trained', step: 60 },
      });
      expect(report.metrics.accuracy).toBeGreaterThan(report.baselines.majorityClass.accuracy);
      const png = join(dir, 'toy.png');
      const run = await json('run', 'toy/majority', '--input', '1101101', '--attention', png, ...common);
      expect(run.output).toMatchObject({ kind: 'label', label: 'ones' });
      expect(run.attention).toMatchObject({ files: [png], layer: 0, heads: 2, positions: 7 });
      const bytes = await readFile(png);
      expect([...bytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
      // a wrong input is the task's own error; a parameter it does not take is refused before any work
      await expect(cli('run', 'toy/majority', '--input', '12', ...toy, ...common)).rejects.toMatchObject({
        stderr: expect.stringMatching(/toy\/majority: expected 7 digits 0 or 1, got "12"/),
      });
      await expect(
        cli('run', 'toy/majority', '--input', '1101101', '--temperature', '2', ...toy, ...common),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(
          /--temperature: toy\/majority takes no parameter 'temperature'; its parameters: none/,
        ),
      });
      await expect(cli('run', 'toy/majority', ...toy, ...common)).rejects.toMatchObject({
        stderr: expect.stringMatching(
          /toy\/majority needs --input: text: 7 digits 0 or 1; a string or a file/,
        ),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
      const report = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(report).toMatchObject({
        task: 'text/names',
        checkpoint: { source: 'committed', step: 3000 },
        examples: 1684,
        split: { name: 'held-out' },
        goal: { metric: 'nll', op: '<=', value: 2.1, met: true },
      });
      // the committed model's figures, as docs/benchmarks.md and checkpoints/README.md give them
      expect(report.metrics.nll).toBeCloseTo(2.0355, 3);
      expect(report.baselines.bigram.nll).toBeCloseTo(2.4261, 3);
      expect(report.metrics.novelFraction).toBeGreaterThan(0);
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
      stderr: expect.stringMatching(
        /text\/names is a generate task and cannot classify; tasks that can: text\/spam/,
      ),
    });
  });

  it('a bad --backend is a clear error and exit code 1', async () => {
    await expect(cli('info', '--backend', 'tpu')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--backend: got 'tpu'; expected 'auto', 'webgpu' or 'cpu'/),
    });
  });

  it('--seed abc and out-of-range sampling flags are refused in flag names before the device opens', async () => {
    await expect(cli('info', '--seed', 'abc')).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/--seed: got 'abc'; expected an integer/),
    });
    await expect(cli('demo', '--max-seconds', 'abc')).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/--max-seconds: got 'abc'; expected a number/),
    });
    const run = ['generate', 'text/names', '--prompt', 'ma', '--backend', 'cpu'];
    const topP = await cli(...run, '--top-p', '2').catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(topP).toMatchObject({ code: 1, stdout: '' });
    const stderr = (topP as { stderr: string }).stderr;
    expect(stderr).toMatch(/^multihead: --top-p: got 2; expected a value in \[0, 1\]$/m);
    expect(stderr).not.toMatch(/backend:/); // refused before the device opened
    await expect(cli(...run, '--param', 'topK=0')).rejects.toMatchObject({
      stderr: expect.stringMatching(/^multihead: --param topK: got 0; expected a value in \[1, /m),
    });
  });

  it('--checkpoint resolves against INIT_CWD; a missing or corrupt file is named with the command that makes one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'user-cwd-'));
    try {
      await writeFile(join(dir, 'bad.safetensors'), 'not a checkpoint');
      const env = { ...process.env, INIT_CWD: dir }; // pnpm runs the script from apps/cli
      const evalWith = (file: string) =>
        // node itself: npx would set INIT_CWD to its own directory
        run(
          process.execPath,
          ['--import', 'tsx', main, 'eval', 'text/names', '--backend', 'cpu', '--checkpoint', file],
          {
            cwd: fileURLToPath(new URL('..', import.meta.url)),
            env,
            timeout: 120_000,
          },
        );
      await expect(evalWith('missing.safetensors')).rejects.toMatchObject({
        code: 1,
        stdout: '', // nothing printed before the check: the device did not open
        stderr: expect.stringContaining(
          `--checkpoint: cannot read ${join(dir, 'missing.safetensors')} (no such file); \`multihead train text/names\` makes one`,
        ),
      });
      await expect(evalWith('bad.safetensors')).rejects.toMatchObject({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          new RegExp(
            `${join(dir, 'bad.safetensors')} is not a readable checkpoint \\(.*\\); multihead train text/names makes one`,
          ),
        ),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('info describes the adapter it found even when the CPU backend runs', async () => {
    const { stdout } = await cli('info', '--backend', 'cpu', '--json');
    const info = JSON.parse(stdout.trim());
    expect(info.backend).toBe('cpu');
    expect(info.adapterUsed).toBe(false);
    // CI has SwiftShader (README "Tests"): an adapter is always there to describe
    expect(info.adapter).toMatchObject({ vendor: expect.any(String), source: expect.stringMatching(/Dawn/) });
    expect(info.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThan(0);
  });
});
