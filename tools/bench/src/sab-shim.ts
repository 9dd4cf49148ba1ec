/**
 * Dawn's Node binding (npm `webgpu` 0.6.x) cannot take typed-array views backed by a SharedArrayBuffer
 * (it segfaults or throws "Invalid argument"), and onnxruntime-web always passes views of its shared wasm
 * heap. This copies such data into a plain ArrayBuffer first. Ported to TypeScript from the peer scripts
 * in /work/shared/peers (`sab_shim.mjs`); needs Dawn's globals (GPUQueue, ...) on globalThis.
 */
type View = ArrayBufferView & { length?: number; BYTES_PER_ELEMENT?: number };
type Method = (this: unknown, ...args: unknown[]) => unknown;

const isShared = (d: unknown): boolean =>
  typeof SharedArrayBuffer !== 'undefined' &&
  (d instanceof SharedArrayBuffer || (ArrayBuffer.isView(d) && d.buffer instanceof SharedArrayBuffer));

let installed = false;

export function installSharedArrayBufferShim(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, { prototype: Record<string, Method> } | undefined>;
  const Q = g.GPUQueue?.prototype;
  if (!Q) throw new Error('bench: Dawn globals (GPUQueue) are not on globalThis');
  const origWrite = Q.writeBuffer!;
  Q.writeBuffer = function (buffer, offset, data, dataOffset = 0, size) {
    const off = typeof offset === 'bigint' ? Number(offset) : offset;
    if (isShared(data)) {
      const view = (ArrayBuffer.isView(data) ? data : new Uint8Array(data as SharedArrayBuffer)) as View;
      const bpe = view.BYTES_PER_ELEMENT ?? 1;
      const start = dataOffset as number;
      const n = (size as number | undefined) ?? (view.length ?? view.byteLength) - start;
      const copy = new Uint8Array(n * bpe);
      copy.set(new Uint8Array(view.buffer, view.byteOffset + start * bpe, n * bpe));
      return origWrite.call(this, buffer, off, copy, 0, n * bpe);
    }
    return origWrite.call(this, buffer, off, data, dataOffset, size);
  };
  const origWriteTex = Q.writeTexture!;
  Q.writeTexture = function (dst, data, layout, size) {
    let d = data;
    if (isShared(d)) {
      const v = (ArrayBuffer.isView(d) ? d : new Uint8Array(d as SharedArrayBuffer)) as View;
      d = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
    }
    return origWriteTex.call(this, dst, d, layout, size);
  };
  for (const name of ['GPUComputePassEncoder', 'GPURenderPassEncoder', 'GPURenderBundleEncoder']) {
    const P = g[name]?.prototype;
    if (!P) continue;
    const orig = P.setBindGroup!;
    P.setBindGroup = function (...args: unknown[]) {
      const [index, group, offs, start, len] = args as [
        number,
        unknown,
        Uint32Array | undefined,
        number?,
        number?,
      ];
      if (offs && isShared(offs)) {
        const s = start ?? 0;
        return orig.call(this, index, group, Array.from(offs.subarray(s, s + (len ?? offs.length - s))));
      }
      return orig.apply(this, args);
    };
  }
}
