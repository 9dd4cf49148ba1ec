/** The backends that ship with core, registered once before the first device is made. */
import { registerReferenceKernels } from './reference/register.js';
import { registerWasmKernels } from './wasm/register.js';
import { registerWebGpuKernels } from './webgpu/register.js';

let registered = false;

export function registerBuiltinBackends(): void {
  if (registered) return;
  registered = true;
  registerReferenceKernels();
  registerWasmKernels();
  registerWebGpuKernels();
}
