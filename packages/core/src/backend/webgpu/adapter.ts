/**
 * Finding a WebGPU adapter: `navigator.gpu` in a browser, Dawn (npm `webgpu`) in Node, with Debian
 * chromium's SwiftShader as the software fallback; and what we tell users about the adapter we found.
 */

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
  // Node: Dawn through the npm package `webgpu`. A variable specifier keeps bundlers from pulling it
  // into browser builds (docs/decisions.md "Platform pitfalls").
  const specifier = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ specifier)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
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
  const first = await tryCreate();
  if (first) return { adapter: first, source: 'Dawn (npm webgpu)' };
  // No Vulkan driver Dawn accepts: fall back to the SwiftShader ICD that Debian's chromium ships.
  const fsModule = 'node:fs'; // kept out of browser bundles like `webgpu` above
  const { existsSync } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs');
  const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!process.env.VK_ICD_FILENAMES && existsSync(icd)) {
    process.env.VK_ICD_FILENAMES = icd;
    const second = await tryCreate();
    if (second) return { adapter: second, source: `Dawn (npm webgpu) with SwiftShader from ${icd}` };
  }
  return null;
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
