import { createDevice } from './src/index.ts';
import type { KernelSpec } from './src/backend/webgpu.ts';
import { dimFields, packDims } from './src/backend/uniforms.ts';
import { type FastConfig, FAST_FIELDS, fastBody, fastTile } from './src/ops/fastgen_proto.ts';
const dev = await createDevice({ backend: 'webgpu' });
const gpu = dev.gpu!;
const n = Number(process.env.N ?? 1024);
const reps = Number(process.env.REPS ?? 3);
const configs: FastConfig[] = JSON.parse(process.argv[2]!);
function rnd(len: number, seed: number) { let s = seed; const o = new Float32Array(len); for (let i = 0; i < len; i++) { s = (s * 1103515245 + 12345) >>> 0; o[i] = (s / 2 ** 32) * 2 - 1; } return o; }
const A = rnd(n * n, 1), B = rnd(n * n, 2);
const a = dev.tensor(A, [n, n]), b = dev.tensor(B, [n, n]), c = dev.empty([n, n], 'f32');
for (const cfg of configs) {
  const spec: KernelSpec = {
    key: 'proto:' + JSON.stringify(cfg), uniforms: [...FAST_FIELDS, ...dimFields('bshape'), ...dimFields('sab'), ...dimFields('sbb')],
    operands: [{ name: 'a', dtype: 'f32', vec4: true }, { name: 'b', dtype: 'f32', vec4: true }, { name: 'c', dtype: 'f32', write: true }],
    workgroupSize: 64, body: fastBody(cfg), enables: cfg.share === 'none' ? [] : ['subgroups'],
  };
  const [tM, tN] = fastTile(cfg);
  const tilesM = Math.ceil(n / tM), tilesN = Math.ceil(n / tN);
  const vals = { M: n, N: n, K: n, tiles_m: tilesM, tiles_n: tilesN, brank: 0, a_off: 0, b_off: 0, sam: n, sbs: n, ...packDims('bshape', []), ...packDims('sab', []), ...packDims('sbb', []) };
  const go = () => gpu.run(spec, [a.storage.buffer!, b.storage.buffer!, c.storage.buffer!], vals, tilesM * tilesN);
  let t0 = performance.now();
  try { go(); await dev.sync(); } catch (e) { console.log(JSON.stringify(cfg), 'ERR', (e as Error).message.slice(0, 2000)); continue; }
  const compile = performance.now() - t0;
  const times: number[] = [];
  for (let r = 0; r < reps; r++) { t0 = performance.now(); go(); await dev.sync(); times.push(performance.now() - t0); }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)]!;
  const out = await c.read() as Float32Array;
  let err = 0;
  for (const i of [0, 1, 5, n - 1]) for (let j = 0; j < n; j++) {
    let s = 0; for (let k = 0; k < n; k++) s += A[i * n + k]! * (cfg.transB ? B[j * n + k]! : B[k * n + j]!);
    err = Math.max(err, Math.abs(s - out[i * n + j]!));
  }
  console.log(JSON.stringify(cfg), `compile+1 ${compile.toFixed(0)}ms  ${ms.toFixed(1)}ms  ${(2 * n ** 3 / ms / 1e6).toFixed(2)} GFLOP/s err ${err.toExponential(1)}`);
}
process.exit(0);
