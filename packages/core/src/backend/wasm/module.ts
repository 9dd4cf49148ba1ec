/**
 * Loading the kernels' WebAssembly: relaxed SIMD turned on in Node 20, the embedded base64 decoded, the
 * unshared variant for pages that cannot share memory, and the one memory every thread imports.
 */
import { fail } from '../../errors.js';

/**
 * Node 20's V8 implements relaxed SIMD completely (Chrome ships it from V8 11.4; Node 22 has it on) but keeps
 * it behind a flag; V8 reads the flag when it validates and compiles a module, so setting it at run time,
 * before our kernels compile, is enough. Returns whether it tried. Never throws (other runtimes: false).
 */
export async function enableNodeRelaxedSimd(): Promise<boolean> {
  const g = globalThis as { process?: { versions?: { node?: string } } };
  if (!g.process?.versions?.node) return false;
  try {
    const specifier = 'node:v8';
    const v8 = (await import(/* @vite-ignore */ specifier)) as { setFlagsFromString(flags: string): void };
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    return true;
  } catch {
    return false;
  }
}

export function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The same module with its memory import declared unshared (limits flag 0x03 -> 0x01): for pages that
 * are not cross-origin isolated, where a shared memory cannot be made. The kernels use no atomics, so
 * nothing else changes.
 */
export function unsharedVariant(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes);
  const leb = (pos: number): [number, number] => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = out[pos++]!;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) return [value >>> 0, pos];
    }
  };
  let pos = 8;
  while (pos < out.length) {
    const id = out[pos++]!;
    const [size, body] = leb(pos);
    if (id === 2) {
      let p = body;
      let count: number;
      [count, p] = leb(p);
      for (let i = 0; i < count; i++) {
        for (let s = 0; s < 2; s++) {
          const [len, q] = leb(p);
          p = q + len; // module and field names
        }
        const kind = out[p++]!;
        if (kind === 2) {
          if (out[p] === 0x03) out[p] = 0x01;
          return out;
        }
        // skip the other import kinds: function (type index), table, global
        if (kind === 0) p = leb(p)[1];
        else if (kind === 1) {
          p++;
          const flags = out[p++]!;
          p = leb(p)[1];
          if (flags & 1) p = leb(p)[1];
        } else if (kind === 3) p += 2;
      }
      return out;
    }
    pos = body + size;
  }
  return out;
}

export function makeMemory(shared: boolean): { memory: WebAssembly.Memory; maxBytes: number } {
  // a shared memory must declare its maximum, and the engine reserves it up front: try 4 GiB, then less
  let lastError: unknown = null;
  for (const maximum of [65536, 16384, 4096]) {
    try {
      const descriptor = { initial: 256, maximum, shared } as WebAssembly.MemoryDescriptor;
      return { memory: new WebAssembly.Memory(descriptor), maxBytes: maximum * 65536 };
    } catch (error) {
      lastError = error;
    }
  }
  return fail('OUT_OF_MEMORY', `wasm kernels: cannot create a WebAssembly memory: ${String(lastError)}`);
}
