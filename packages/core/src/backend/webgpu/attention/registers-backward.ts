/**
 * The register backward kernels (`kernel: 'registers'`) for head dims divisible by 4, built like the
 * register forward (registers.ts):
 * unrolled named vec4 registers, quad-shared row loads with `subgroups`, one key (or query) per step.
 * - dQ: each invocation owns R query rows (q, dO and the dQ accumulator in registers) and streams keys.
 * - dK/dV: each invocation owns R key rows (k, v and both accumulators in registers) and streams the
 *   queries of every head in its GQA group that can see them, so shared heads sum without atomics.
 * Scores are recomputed from the saved lse (FlashAttention-2 Alg. 2); nothing Nq x Nk is stored except
 * the bias gradient when a bias is given.
 */
import { REGISTERS_BACKWARD_WORKGROUP, registerBackwardRows } from '../heuristics.js';
import { type KernelSpec, MAIN_PARAMS, type OperandSpec } from '../shader.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  commonWgsl,
  featureKey,
  KEY_TILE_HEAD,
  KV_HEAD_BASES,
  QUERY_TILE_HEAD,
  STATS_WGSL,
  vec4BackwardInputOperands,
} from './features.js';

const range = (n: number) => [...Array(n).keys()];

/** Emits loads of one row of `name` (vec4 operand) at vec4 index `base` into registers `${reg}_c`. */
function rowLoader(subgroups: boolean, emit: (s: string) => void) {
  return (name: string, n4: number, base: string, reg: string, indent = '    ') => {
    if (!subgroups) {
      for (const c of range(n4)) emit(`${indent}let ${reg}_${c} = ${name}_ld4(${base} + ${c}u);`);
      return;
    }
    for (const t of range(Math.ceil(n4 / 4))) {
      emit(`${indent}let ${reg}p${t} = ${name}_ld4(${base} + min(lane + ${4 * t}u, ${n4 - 1}u));`);
    }
    for (const c of range(n4))
      emit(`${indent}let ${reg}_${c} = quadBroadcast(${reg}p${Math.floor(c / 4)}, ${c % 4}u);`);
  };
}

/** `sum_c a_c · b_c` over vec4 registers, as one fma chain and a final horizontal add. */
function dot(a: string, b: string, n4: number): string {
  const chain = range(n4).reduce(
    (acc, c) => (c === 0 ? `${a}_0 * ${b}_0` : `fma(${a}_${c}, ${b}_${c}, ${acc})`),
    '',
  );
  return `hsum(${chain})`;
}

const quadUnion = (lo: string, hi: string) => `
  ${lo} = min(min(quadBroadcast(${lo}, 0u), quadBroadcast(${lo}, 1u)), min(quadBroadcast(${lo}, 2u), quadBroadcast(${lo}, 3u)));
  ${hi} = max(max(quadBroadcast(${hi}, 0u), quadBroadcast(${hi}, 1u)), max(quadBroadcast(${hi}, 2u), quadBroadcast(${hi}, 3u)));`;

/**
 * A register backward kernel being written: `emit` appends lines of `main`'s body, `load` emits row
 * loads (rowLoader), D4 / V4 are the head dims in vec4s and R the rows per invocation (../heuristics.ts);
 * `finish` wraps the body (lane setup, common WGSL) into the kernel.
 */
function kernelWriter(f: AttentionFeatures, subgroups: boolean) {
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);
  const finish = (name: string, operands: OperandSpec[]): KernelSpec => ({
    key: `${name}:${featureKey(f)}:${subgroups ? 'quad' : 'lane'}`,
    uniforms: ATTENTION_FIELDS,
    operands,
    workgroupSize: REGISTERS_BACKWARD_WORKGROUP,
    ...(subgroups ? { enables: ['subgroups'] } : {}),
    body: `${commonWgsl(f)}
${STATS_WGSL}
${MAIN_PARAMS}${subgroups ? ', @builtin(subgroup_invocation_id) sg: u32' : ''}) {
  let lane = ${subgroups ? 'sg % 4u' : '0u'};
${lines.join('\n')}
}`,
  });
  const R = registerBackwardRows(f.D, f.Dv);
  return { emit, load: rowLoader(subgroups, emit), D4: f.D / 4, V4: f.Dv / 4, R, finish };
}

export function registersDqSpec(f: AttentionFeatures, subgroups: boolean): KernelSpec {
  const { emit, load, D4, V4, R, finish } = kernelWriter(f, subgroups);
  emit(`${QUERY_TILE_HEAD}
  let ibase = ((u.tiles - 1u - w % u.tiles) * WG + li) * ${R}u; // last rows (the most keys under causal) first
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}
  var jlo = u.Nk;
  var jhi = 0u;`);
  for (const r of range(R)) {
    emit(`  let i${r} = ibase + ${r}u;
  let ic${r} = min(i${r}, u.Nq - 1u);
  let row${r} = (b * u.H + h) * u.Nq + ic${r};
  let lse${r} = lse_ld(row${r});
  let delta${r} = delta_ld(row${r});
  let lo${r} = keyLo(i${r});
  let hi${r} = select(0u, keyHi(i${r}, b), i${r} < u.Nq && takesPart(lse${r}));
  if (lo${r} < hi${r}) { jlo = min(jlo, lo${r}); jhi = max(jhi, hi${r}); }`);
    for (const c of range(D4))
      emit(`  let q${r}_${c} = q_ld4((qb + ic${r} * u.q_sn) / 4u + ${c}u) * u.scale;`);
    for (const c of range(V4)) emit(`  let g${r}_${c} = dout_ld4(row${r} * ${V4}u + ${c}u);`);
    for (const c of range(D4)) emit(`  var dq${r}_${c} = vec4f(0.0);`);
  }
  if (subgroups) emit(quadUnion('jlo', 'jhi'));
  emit('  for (var j = jlo; j < jhi; j++) {');
  emit('    let jc = min(j, u.Nk - 1u);');
  load('k', D4, '(kb + jc * u.k_sn) / 4u', 'k');
  load('v', V4, '(vb + jc * u.v_sn) / 4u', 'v');
  for (const r of range(R)) {
    emit(`    var ds${r} = 0.0;
    var tk${r} = false; // key j takes part in row i (features.ts takesPart): only then is k read
    if (j >= lo${r} && j < hi${r} && visible(b, h, i${r}, j)) {
      let raw = ${dot(`q${r}`, 'k', D4)};
      let t = transformed(raw, b, h, i${r}, j);
      let sc = modded(t, b, h, i${r}, j);
      tk${r} = takesPart(sc);
      let p = probOf(sc, lse${r});
      ds${r} = p * (${dot(`g${r}`, 'v', V4)} * dropKeep(b, h, i${r}, j) - delta${r}) * modGrad(t, b, h, i${r}, j) * capGrad(raw);
    }
    let dsv${r} = vec4f(ds${r});`);
    for (const c of range(D4))
      emit(`    dq${r}_${c} = select(dq${r}_${c}, fma(dsv${r}, k_${c}, dq${r}_${c}), tk${r});`);
  }
  emit('  }');
  for (const r of range(R)) {
    emit(`  if (i${r} < u.Nq) {`);
    for (const c of range(D4)) emit(`    dq_st4(row${r} * ${D4}u + ${c}u, dq${r}_${c} * u.scale);`);
    emit('  }');
  }
  return finish('attn-dq-registers', [
    ...vec4BackwardInputOperands(f),
    { name: 'dq', dtype: 'f32', write: true, vec4: true },
  ]);
}

export function registersDkvSpec(f: AttentionFeatures, subgroups: boolean): KernelSpec {
  const { emit, load, D4, V4, R, finish } = kernelWriter(f, subgroups);
  emit(`${KEY_TILE_HEAD}
  let jbase = ((w % u.tiles) * WG + li) * ${R}u;
${KV_HEAD_BASES}
  let end = ${f.kvLens ? 'u32(clamp(lens_ld(b), 0, i32(u.Nk)))' : 'u.Nk'};
  let seen = queriesSeeing(jbase, ${R}u, end);
  var ilo = seen.x;
  var ihi = seen.y;`);
  for (const r of range(R)) {
    emit(`  let j${r} = jbase + ${r}u;
  let jc${r} = min(j${r}, u.Nk - 1u);`);
    for (const c of range(D4)) emit(`  let k${r}_${c} = k_ld4((kb + jc${r} * u.k_sn) / 4u + ${c}u);`);
    for (const c of range(V4)) emit(`  let v${r}_${c} = v_ld4((vb + jc${r} * u.v_sn) / 4u + ${c}u);`);
    for (const c of range(D4)) emit(`  var dk${r}_${c} = vec4f(0.0);`);
    for (const c of range(V4)) emit(`  var dv${r}_${c} = vec4f(0.0);`);
  }
  if (subgroups) emit(quadUnion('ilo', 'ihi'));
  emit(`  for (var g = 0u; g < u.group; g++) {
    let h = hk * u.group + g;
    let qb = u.q_off + b * u.q_sb + h * u.q_sh;
    for (var i = ilo; i < ihi; i++) {
      let row = (b * u.H + h) * u.Nq + i;
      let l = lse_ld(row);
      let dl = delta_ld(row);
      let klo = keyLo(i);
      let khi = keyHi(i, b);`);
  load('q', D4, '(qb + i * u.q_sn) / 4u', 'q', '      ');
  load('dout', V4, `row * ${V4}u`, 'g', '      ');
  for (const r of range(R)) {
    emit(`      var p${r} = 0.0;
      var ds${r} = 0.0;
      var tk${r} = false; // key j takes part in row i (features.ts takesPart): only then are q, dO read
      if (takesPart(l) && j${r} < end && j${r} >= klo && j${r} < khi && visible(b, h, i, j${r})) {
        let raw = ${dot('q', `k${r}`, D4)} * u.scale;
        let t = transformed(raw, b, h, i, j${r});
        let sc = modded(t, b, h, i, j${r});
        tk${r} = takesPart(sc);
        p${r} = probOf(sc, l);
        let keep = dropKeep(b, h, i, j${r});
        let dsT = p${r} * (${dot('g', `v${r}`, V4)} * keep - dl) * modGrad(t, b, h, i, j${r}); // dL/dt: the bias gradient
        ${f.bias ? `dbias_st(row * u.Nk + j${r}, dsT);` : ''}
        ds${r} = dsT * capGrad(raw);
        p${r} *= keep; // dV takes the dropped, rescaled probabilities
      }
      let pv${r} = vec4f(p${r});
      let dsv${r} = vec4f(ds${r});`);
    for (const c of range(V4))
      emit(`      dv${r}_${c} = select(dv${r}_${c}, fma(pv${r}, g_${c}, dv${r}_${c}), tk${r});`);
    for (const c of range(D4))
      emit(`      dk${r}_${c} = select(dk${r}_${c}, fma(dsv${r}, q_${c}, dk${r}_${c}), tk${r});`);
  }
  emit('    }\n  }');
  emit(`  let dvBase = u.B * u.Hkv * u.Nk * ${D4}u;`);
  for (const r of range(R)) {
    emit(`  if (j${r} < u.Nk) {
    let krow = (b * u.Hkv + hk) * u.Nk + j${r};`);
    for (const c of range(D4)) emit(`    dkv_st4(krow * ${D4}u + ${c}u, dk${r}_${c} * u.scale);`);
    for (const c of range(V4)) emit(`    dkv_st4(dvBase + krow * ${V4}u + ${c}u, dv${r}_${c});`);
    emit('  }');
  }
  return finish('attn-dkv-registers', [
    ...vec4BackwardInputOperands(f),
    { name: 'dkv', dtype: 'f32', write: true, vec4: true },
    ...(f.bias ? [{ name: 'dbias', dtype: 'f32' as const, write: true }] : []),
  ]);
}
