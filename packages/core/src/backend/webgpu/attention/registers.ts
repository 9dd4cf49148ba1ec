/**
 * The register forward kernel (`kernel: 'registers'`) for head dims divisible by 4 (the common case). Fully unrolled with named vec4
 * registers: each invocation owns R query rows (q and the output accumulator live in registers), keys
 * are consumed 4 at a time with one online-softmax rescale per step (FlashAttention-2 Alg. 1), and with
 * the `subgroups` feature each K/V row is loaded a quarter per lane and shared across the quad with
 * quadBroadcast, so a lane issues a quarter of the loads (what made attention fast on SwiftShader:
 * docs/decisions.md "Fused attention"). Without subgroups every lane loads whole rows. Masks and mods
 * compile in as in features.ts.
 */
import { REGISTERS_WORKGROUP, registerRows } from '../heuristics.js';
import { type KernelSpec, MAIN_PARAMS } from '../shader.js';
import {
  ATTENTION_FIELDS,
  type AttentionFeatures,
  commonWgsl,
  featureKey,
  KV_HEAD_BASES,
  QUERY_TILE_HEAD,
  vec4ForwardOperands,
} from './features.js';

const KEYS_PER_STEP = 2;
const LOG2E = Math.LOG2E;

/** The register and tiled families unroll head dims by vec4. */
export function vec4HeadDims(f: AttentionFeatures): boolean {
  return f.D % 4 === 0 && f.Dv % 4 === 0;
}

export function registersForwardSpec(f: AttentionFeatures, subgroups: boolean): KernelSpec {
  const { D, Dv } = f;
  const D4 = D / 4;
  const V4 = Dv / 4;
  const R = registerRows(f);
  const rows = [...Array(R).keys()];
  const keys = [...Array(KEYS_PER_STEP).keys()];
  const slots = (n4: number) => [...Array(Math.ceil(n4 / 4)).keys()];
  const chunks = (n4: number) => [...Array(n4).keys()];
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);

  /** Full row `name` (k or v) of key `jexpr` as vec4 registers `${reg}_c`. */
  const loadRow = (name: 'k' | 'v', n4: number, base: string, reg: string) => {
    if (!subgroups) {
      for (const c of chunks(n4)) emit(`    let ${reg}_${c} = ${name}_ld4(${base} + ${c}u);`);
      return;
    }
    // lane l loads chunks l, l + 4, ...; chunk c then comes from lane c % 4, slot c / 4
    for (const t of slots(n4))
      emit(`    let ${reg}p${t} = ${name}_ld4(${base} + min(lane + ${4 * t}u, ${n4 - 1}u));`);
    for (const c of chunks(n4))
      emit(`    let ${reg}_${c} = quadBroadcast(${reg}p${Math.floor(c / 4)}, ${c % 4}u);`);
  };

  emit(`${QUERY_TILE_HEAD}
  let ibase = ((u.tiles - 1u - w % u.tiles) * WG + li) * ${R}u; // last rows (the most keys under causal) first
  let lane = ${subgroups ? 'sg % 4u' : '0u'};
  let qb = u.q_off + b * u.q_sb + h * u.q_sh;
${KV_HEAD_BASES}
  var jlo = u.Nk;
  var jhi = 0u;`);
  for (const r of rows) {
    emit(`  let i${r} = ibase + ${r}u;
  let qr${r} = (qb + min(i${r}, u.Nq - 1u) * u.q_sn) / 4u;
  let lo${r} = keyLo(i${r});
  let hi${r} = select(0u, keyHi(i${r}, b), i${r} < u.Nq);
  if (lo${r} < hi${r}) { jlo = min(jlo, lo${r}); jhi = max(jhi, hi${r}); }
  var m${r} = -1e30;
  var l${r} = 0.0;
  var bad${r} = false; // a NaN or +inf score seen: the row is NaN (features.ts poisons)`);
    for (const c of chunks(D4)) emit(`  let q${r}_${c} = q_ld4(qr${r} + ${c}u) * u.scale;`);
    for (const c of chunks(V4)) emit(`  var o${r}_${c} = vec4f(0.0);`);
  }
  if (subgroups) {
    // the key loop must be uniform across the quad: take the quad's union of ranges
    emit(`  jlo = min(min(quadBroadcast(jlo, 0u), quadBroadcast(jlo, 1u)), min(quadBroadcast(jlo, 2u), quadBroadcast(jlo, 3u)));
  jhi = max(max(quadBroadcast(jhi, 0u), quadBroadcast(jhi, 1u)), max(quadBroadcast(jhi, 2u), quadBroadcast(jhi, 3u)));`);
  }
  emit(`  for (var j0 = jlo; j0 < jhi; j0 += ${KEYS_PER_STEP}u) {`);
  for (const jj of keys) {
    emit(`    let j${jj} = j0 + ${jj}u;
    let kr${jj} = (kb + min(j${jj}, u.Nk - 1u) * u.k_sn) / 4u;`);
    loadRow('k', D4, `kr${jj}`, `k${jj}`);
  }
  for (const r of rows) {
    // the keys' products side by side: each q register is read once per step
    for (const c of chunks(D4))
      for (const jj of keys)
        emit(
          c === 0
            ? `    var d${r}_${jj} = q${r}_0 * k${jj}_0;`
            : `    d${r}_${jj} = fma(q${r}_${c}, k${jj}_${c}, d${r}_${jj});`,
        );
    for (const jj of keys)
      emit(`    let sc${r}_${jj} = modded(transformed(d${r}_${jj}.x + d${r}_${jj}.y + d${r}_${jj}.z + d${r}_${jj}.w, b, h, i${r}, j${jj}), b, h, i${r}, j${jj});
    let vis${r}_${jj} = j${jj} >= lo${r} && j${jj} < hi${r} && visible(b, h, i${r}, j${jj});
    bad${r} = bad${r} | (vis${r}_${jj} & poisons(sc${r}_${jj}));
    let tk${r}_${jj} = vis${r}_${jj} & takesPart(sc${r}_${jj}) & !poisons(sc${r}_${jj});
    let s${r}_${jj} = select(-inf(), sc${r}_${jj}, tk${r}_${jj});`);
  }
  for (const r of rows) {
    const s = keys.map((jj) => `s${r}_${jj}`);
    emit(`    let mn${r} = ${s.reduce((acc, x) => `max(${acc}, ${x})`, `m${r}`)};
    let alpha${r} = exp2((m${r} - mn${r}) * ${LOG2E});
    ${keys.map((jj) => `let p${r}_${jj} = exp2((s${r}_${jj} - mn${r}) * ${LOG2E});`).join(' ')}
    l${r} = l${r} * alpha${r} + ${keys.map((jj) => `p${r}_${jj}`).join(' + ')};
    m${r} = mn${r};`);
  }
  for (const jj of keys) {
    emit(`    let vr${jj} = (vb + min(j${jj}, u.Nk - 1u) * u.v_sn) / 4u;`);
    loadRow('v', V4, `vr${jj}`, `v${jj}`);
  }
  for (const r of rows) {
    for (const jj of keys) {
      const keep = f.dropout ? ` * dropKeep(b, h, i${r}, j${jj})` : '';
      emit(`    let pv${r}_${jj} = vec4f(p${r}_${jj}${keep});`);
    }
    // one read and one write of each accumulator per step: rescale and both keys in one expression; a
    // key not taking part adds a zero v (0 · NaN would be NaN)
    for (const c of chunks(V4))
      emit(
        `    o${r}_${c} = ${keys.reduce((acc, jj) => `fma(pv${r}_${jj}, select(vec4f(0.0), v${jj}_${c}, tk${r}_${jj}), ${acc})`, `o${r}_${c} * alpha${r}`)};`,
      );
  }
  emit('  }');
  for (const r of rows) {
    emit(`  if (i${r} < u.Nq) {
    let row = (b * u.H + h) * u.Nq + i${r};
    // a row with no key taking part gives zeros and lse = -inf; a poisoned row NaN
    let inv = select(0.0, 1.0 / l${r}, l${r} > 0.0);`);
    for (const c of chunks(V4))
      emit(`    out_st4(row * ${V4}u + ${c}u, select(o${r}_${c} * inv, vec4f(nan()), bad${r}));`);
    emit(`    lse_st(row, select(select(-inf(), m${r} + log(l${r}), l${r} > 0.0), nan(), bad${r}));
  }`);
  }

  return {
    key: `attn-fwd-registers:${featureKey(f)}:${subgroups ? 'quad' : 'lane'}`,
    uniforms: ATTENTION_FIELDS,
    operands: vec4ForwardOperands(f),
    workgroupSize: REGISTERS_WORKGROUP,
    ...(subgroups ? { enables: ['subgroups'] } : {}),
    body: `${commonWgsl(f)}
${MAIN_PARAMS}${subgroups ? ', @builtin(subgroup_invocation_id) sg: u32' : ''}) {
${lines.join('\n')}
}`,
  };
}
