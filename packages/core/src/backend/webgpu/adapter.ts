/**
 * Finding a WebGPU adapter: `navigator.gpu` in a browser, Dawn (npm `webgpu`) in Node, with Debian
 * chromium's SwiftShader as the software fallback; and what we tell users about the adapter we found.
 */

import { importAtRunTime, importOptional } from '../../run-time-import.js';

/** What a user may ask of the WebGPU device. */
export interface WebGpuOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Lower the device's limits, e.g. `maxStorageBufferBindingSize`, to exercise the code paths that
   * split work on small devices (tests do this). Values above the adapter's limits are refused.
   */
  limits?: {
    maxStorageBufferBindingSize?: number;
    maxComputeWorkgroupsPerDimension?: number;
    maxComputeWorkgroupStorageSize?: number;
    /** The largest tensor (one buffer) the device takes: tests of OUT_OF_MEMORY with small data. */
    maxBufferSize?: number;
  };
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** true for CPU implementations of WebGPU (SwiftShader, lavapipe, WARP). */
  isSoftware: boolean;
  /** How the adapter was found (for `multihead info`). */
  source: string;
}

/** Dawn tears an instance down when its objects are collected: everything it hands out stays referenced. */
export const KEEP_ALIVE: unknown[] = [];

export async function acquireAdapter(
  opts: WebGpuOptions,
): Promise<{ adapter: GPUAdapter; source: string } | null> {
  const request: GPURequestAdapterOptions = opts.powerPreference
    ? { powerPreference: opts.powerPreference }
    : {};
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    const adapter = await nav.gpu.requestAdapter(request);
    return adapter ? { adapter, source: 'navigator.gpu' } : null;
  }
  if (typeof process === 'undefined' || !process.versions?.node) return null;
  const dawn = await importDawn();
  for (const [k, v] of Object.entries(dawn.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const tryCreate = async () => {
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter(request);
    // Dawn tears the instance down under a live device if `gpu` is collected (docs/decisions.md "Platform pitfalls").
    if (adapter) KEEP_ALIVE.push(gpu, adapter);
    return adapter;
  };
  const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
  const { noGpuDevice, hasSwiftShader } = await quietVulkan(icd);
  if (!noGpuDevice) {
    const first = await tryCreate();
    if (first) return { adapter: first, source: 'Dawn (npm webgpu)' };
  }
  // No Vulkan driver Dawn accepts: fall back to the SwiftShader ICD that Debian's chromium ships.
  if (!process.env.VK_ICD_FILENAMES && hasSwiftShader) {
    process.env.VK_ICD_FILENAMES = icd;
    const second = await tryCreate();
    if (second) return { adapter: second, source: `Dawn (npm webgpu) with SwiftShader from ${icd}` };
  }
  return null;
}

type Dawn = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

/**
 * Dawn through the npm package `webgpu`, an optional peer dependency (docs/decisions.md "Optional
 * dependencies"): missing, it is a MISSING_DEPENDENCY error that names it. A variable specifier keeps
 * bundlers from pulling it into browser builds (docs/decisions.md "Platform pitfalls").
 */
function importDawn(): Promise<Dawn> {
  return importOptional<Dawn>(
    'webgpu',
    () => importAtRunTime('webgpu'),
    "createDevice: WebGPU in Node needs the npm package 'webgpu' (Dawn), an optional peer dependency of " +
      "@multihead/core that is not installed: run `npm install webgpu`, or use backend: 'cpu'",
  );
}

/** Set to 1 (or true) to see the WebGPU driver's own messages (docs/api.md "Environment variables"). */
export function verbose(): boolean {
  const value = typeof process === 'undefined' ? undefined : process.env.MULTIHEAD_VERBOSE;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Dawn, the Vulkan loader and Mesa write straight to file descriptor 2 while they look for adapters,
 * which reads like a crash to a user who only created a device; unless MULTIHEAD_VERBOSE is set, the
 * environment is arranged so that they have nothing to say (docs/decisions.md "Quiet devices"):
 * - XDG_RUNTIME_DIR unset: Mesa's window-system code prints "XDG_RUNTIME_DIR is invalid" for every
 *   instance; a private directory of the user's under the temporary folder (0700) stands in.
 * - Mesa's lavapipe, which Dawn rejects anyway (docs/design.md "Running WebGPU with no GPU"), makes Dawn
 *   print a warning with a C++ source location: the loader skips it (VK_LOADER_DRIVERS_DISABLE) unless
 *   the user chose drivers.
 * - On Linux with no GPU device node (/dev/dri/renderD*, /dev/nvidia*) no hardware Vulkan driver can find a
 *   device, and probing makes the loader print "Failed to detect any valid GPUs": go to SwiftShader at once.
 */
/**
 * One directory per user, reused by every process (processes that are killed never clean up after
 * themselves): the user's own, mode 0700, not a link, as the XDG spec asks; anything else there (another
 * user's, a symlink) is never used, and a fresh private directory stands in.
 */
function runtimeDir(fs: typeof import('node:fs'), dir: string): string {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
  }
  const stat = fs.lstatSync(dir);
  const own = stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o777) === 0o700;
  return own ? dir : fs.mkdtempSync(`${dir}-`);
}

async function quietVulkan(icd: string): Promise<{ noGpuDevice: boolean; hasSwiftShader: boolean }> {
  // kept out of browser bundles like `webgpu` above
  const fs = await importAtRunTime<typeof import('node:fs')>('node:fs');
  const hasSwiftShader = fs.existsSync(icd);
  if (verbose()) return { noGpuDevice: false, hasSwiftShader };
  const env = process.env;
  if (!env.XDG_RUNTIME_DIR) {
    const { tmpdir, userInfo } = await importAtRunTime<typeof import('node:os')>('node:os');
    const { join } = await importAtRunTime<typeof import('node:path')>('node:path');
    env.XDG_RUNTIME_DIR = runtimeDir(fs, join(tmpdir(), `multihead-runtime-${userInfo().uid}`));
  }
  const driversChosen = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_LOADER_DRIVERS_DISABLE;
  if (!driversChosen) env.VK_LOADER_DRIVERS_DISABLE = '*lvp_icd*';
  let noGpuDevice = false;
  if (process.platform === 'linux' && !driversChosen && hasSwiftShader) {
    const dri = fs.existsSync('/dev/dri') ? fs.readdirSync('/dev/dri') : [];
    const nvidia = fs.readdirSync('/dev').some((name) => name.startsWith('nvidia'));
    noGpuDevice = !nvidia && !dri.some((name) => name.startsWith('renderD'));
  }
  return { noGpuDevice, hasSwiftShader };
}

export function describeAdapter(adapter: GPUAdapter, source: string): AdapterDescription {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const isSoftware =
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|warp|software/.test(text);
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware,
    source,
  };
}
