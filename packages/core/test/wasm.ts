/** The wasm backend as its parity tests run it against the TypeScript reference. */
import { createDevice, type Device } from '../src/index.js';

/** The wasm kernels on `threads` threads; with more than one, test-sized calls take the threaded paths too. */
export async function wasmDevice(threads: number): Promise<Device> {
  const dev = await createDevice({ backend: 'cpu', kernels: 'wasm', threads });
  if (threads > 1) dev.cpu!.splitSmall = true;
  return dev;
}
