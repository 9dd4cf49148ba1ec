/**
 * Creating a device prints nothing the user did not ask for (docs/decisions.md "Quiet devices"), and WebGPU
 * in Node without the optional `webgpu` package is an error naming it (docs/decisions.md "Optional
 * dependencies"). Each case runs a fresh Node process, since Dawn's messages go straight to file
 * descriptor 2 and only show in a process that has not loaded Dawn yet.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const coreRoot = fileURLToPath(new URL('..', import.meta.url));
const childScript = fileURLToPath(new URL('./fixtures/create-device.mts', import.meta.url));
const noWebgpuHook = fileURLToPath(new URL('./fixtures/no-webgpu.mjs', import.meta.url));

/** The environment of a user's shell: none of the variables that choose or quiet Vulkan drivers. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of [
    'XDG_RUNTIME_DIR',
    'VK_ICD_FILENAMES',
    'VK_DRIVER_FILES',
    'VK_LOADER_DRIVERS_DISABLE',
  ]) {
    delete env[name];
  }
  if (!('MULTIHEAD_VERBOSE' in extra)) delete env['MULTIHEAD_VERBOSE'];
  return env;
}

async function createIn(backend: string, preload: string[] = []) {
  const args = ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), childScript, backend];
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: coreRoot,
      env: userEnv(),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const { code, stdout, stderr } = e as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('device creation in a fresh Node process', () => {
  it("backend 'webgpu' finds an adapter and writes nothing to stderr", async () => {
    const { code, stdout, stderr } = await createIn('webgpu');
    expect(code, stdout + stderr).toBe(0);
    expect(stdout).toMatch(/^webgpu: webgpu requested/);
    expect(stderr).toBe('');
  });

  it("without the 'webgpu' package, backend 'webgpu' is MISSING_DEPENDENCY naming it; 'auto' takes the CPU", async () => {
    const missing = await createIn('webgpu', [noWebgpuHook]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toMatch(/^MISSING_DEPENDENCY: .*'webgpu'.*npm install webgpu/);
    const auto = await createIn('auto', [noWebgpuHook]);
    expect(auto.code, auto.stdout + auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(/^cpu: auto: WebGPU in Node needs the optional package 'webgpu'/);
    expect(auto.stderr).toBe('');
  });
});
