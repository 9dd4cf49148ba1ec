import { createDevice, type Device, defaultAttentionKernel } from '@multihead/core';
import { type CommonOptions, checkBackend, emitJson, say } from './common.js';

/** `multihead info`: runtime, adapter and its limits, and which backend `--backend` resolves to and why. */
export async function info(opts: CommonOptions): Promise<void> {
  const device = await createDevice({ backend: checkBackend(opts.backend) });
  // on the CPU backend, still describe the adapter there is (auto may have found it slower)
  let probe: Device | null = null;
  let noAdapter = '';
  if (device.backend === 'cpu') {
    probe = await createDevice({ backend: 'webgpu' }).catch((e: Error) => {
      noAdapter = e.message;
      return null;
    });
  }
  const gpu = (probe ?? device).gpu;
  const adapter = (probe ?? device).adapter;
  const result = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: device.backend,
    reason: device.reason,
    adapter,
    adapterUsed: device.backend === 'webgpu',
    limits: gpu
      ? {
          maxStorageBufferBindingSize: gpu.device.limits.maxStorageBufferBindingSize,
          maxBufferSize: gpu.device.limits.maxBufferSize,
          maxComputeWorkgroupsPerDimension: gpu.device.limits.maxComputeWorkgroupsPerDimension,
          maxComputeInvocationsPerWorkgroup: gpu.device.limits.maxComputeInvocationsPerWorkgroup,
          maxComputeWorkgroupStorageSize: gpu.device.limits.maxComputeWorkgroupStorageSize,
        }
      : null,
    features: gpu ? [...gpu.features].sort() : [],
    attentionKernels: defaultAttentionKernel(device),
  };
  say(opts, `node ${result.node} on ${result.platform}`);
  say(opts, `backend: ${device.backend} — ${device.reason}`);
  if (adapter) {
    say(
      opts,
      `adapter: ${adapter.vendor} / ${adapter.architecture} / ${adapter.device} (${adapter.description})`,
    );
    say(
      opts,
      `  found through ${adapter.source}${adapter.isSoftware ? '; a software (CPU) implementation' : ''}`,
    );
    if (probe) say(opts, '  not used: the CPU backend runs (see backend above)');
    for (const [k, v] of Object.entries(result.limits ?? {})) say(opts, `  ${k}: ${v}`);
    say(opts, `  features: ${result.features.join(', ') || '(none)'}`);
    if (!probe)
      say(
        opts,
        `  attention kernels: ${result.attentionKernels} (${result.attentionKernels === 'tiled' ? 'workgroup-memory tiles, for hardware GPUs' : 'barrier-free, rows in registers, for software adapters'}; attention's \`kernel\` option overrides)`,
      );
  } else {
    say(opts, `adapter: none found${noAdapter ? ` (${noAdapter})` : ''}`);
  }
  if (opts.json) emitJson(result);
  probe?.destroy();
  device.destroy();
}
