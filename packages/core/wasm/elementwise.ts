/**
 * AssemblyScript: the element-wise engine of the CPU backend (ops/map.ts's `mapCpu` twin) for f32 ops
 * that are cheap per element, where JavaScript's per-element call and index arithmetic cost far more
 * than the op: copies of strided views (contiguous(), head split/merge), add/sub/mul/div with
 * broadcasting, their gradients, relu, square, GELU. Shapes arrive coalesced (ops/map.ts merges dims
 * every operand walks contiguously) and padded to rank 4; each operand has its own strides (0 =
 * broadcast). Runs along the innermost dim go 4 lanes at a time when every operand is contiguous or
 * broadcast there, else one element at a time.
 */
import { erfv, geluTanhGradv, geluTanhv } from './rows';
import { expv, madd } from './simd';

// parameter block (src/backend/wasm/elementwise.ts): 4-byte fields
const P_OP = 0;
const P_SHAPE = 2; // 4 dims, outermost first
const P_STRIDES = 6; // 4 operands (out, x0, x1, x2) x 4 dims
const P_PTRS = 22; // out, x0, x1, x2
const P_N = 26;
const P_PER = 27;

function pi(p: usize, f: i32): i32 {
  return load<i32>(p + ((<usize>f) << 2));
}

/** Op codes (the JavaScript table maps map-op names and their operands onto these). */
const COPY = 0;
const ADD = 1;
const SUB = 2;
const MUL = 3;
const DIV = 4;
const NEG = 5;
const SQUARE = 6;
const RELU = 7;
const DIV_DB = 8; // -c·a / (b·b)
const RELU_DX = 9; // a > 0 ? b : 0
const SQUARE_DX = 10; // 2·a·b
const GELU = 11;
const GELU_TANH = 12;
const GELU_DX = 13; // b·gelu'(a)
const GELU_TANH_DX = 14;

function apply(op: i32, a: v128, b: v128, c: v128): v128 {
  switch (op) {
    case COPY:
      return a;
    case ADD:
      return f32x4.add(a, b);
    case SUB:
      return f32x4.sub(a, b);
    case MUL:
      return f32x4.mul(a, b);
    case DIV:
      return f32x4.div(a, b);
    case NEG:
      return f32x4.neg(a);
    case SQUARE:
      return f32x4.mul(a, a);
    case RELU:
      return f32x4.max(a, f32x4.splat(0)); // NaN stays NaN, as the reference
    case DIV_DB:
      return f32x4.div(f32x4.neg(f32x4.mul(c, a)), f32x4.mul(b, b));
    case RELU_DX:
      return v128.and(b, f32x4.gt(a, f32x4.splat(0)));
    case SQUARE_DX:
      return f32x4.mul(f32x4.mul(f32x4.splat(2), a), b);
    case GELU: {
      const cdf = f32x4.mul(
        f32x4.splat(0.5),
        f32x4.add(f32x4.splat(1), erfv(f32x4.mul(a, f32x4.splat(<f32>Math.SQRT1_2)))),
      );
      return f32x4.mul(a, cdf);
    }
    case GELU_TANH:
      return geluTanhv(a);
    case GELU_DX: {
      const cdf = f32x4.mul(
        f32x4.splat(0.5),
        f32x4.add(f32x4.splat(1), erfv(f32x4.mul(a, f32x4.splat(<f32>Math.SQRT1_2)))),
      );
      const pdf = f32x4.mul(
        f32x4.splat(0.3989422804014327),
        expv(f32x4.mul(f32x4.splat(-0.5), f32x4.mul(a, a))),
      );
      return f32x4.mul(b, madd(a, pdf, cdf));
    }
    case GELU_TANH_DX:
      return f32x4.mul(b, geluTanhGradv(a));
    default:
      return a;
  }
}

/** Elements [task·per, +per) of the output, in row-major order of the (coalesced) shape. */
export function mapChunk(task: i32, _scratch: usize, p: usize): void {
  const op = pi(p, P_OP);
  const d1 = pi(p, P_SHAPE + 1);
  const d2 = pi(p, P_SHAPE + 2);
  const d3 = pi(p, P_SHAPE + 3);
  const n = pi(p, P_N);
  const per = pi(p, P_PER);
  const end = min(n, task * per + per);
  // strides (elements) and bases of out, x0, x1, x2
  const so0 = pi(p, P_STRIDES);
  const so1 = pi(p, P_STRIDES + 1);
  const so2 = pi(p, P_STRIDES + 2);
  const so3 = pi(p, P_STRIDES + 3);
  const sa0 = pi(p, P_STRIDES + 4);
  const sa1 = pi(p, P_STRIDES + 5);
  const sa2 = pi(p, P_STRIDES + 6);
  const sa3 = pi(p, P_STRIDES + 7);
  const sb0 = pi(p, P_STRIDES + 8);
  const sb1 = pi(p, P_STRIDES + 9);
  const sb2 = pi(p, P_STRIDES + 10);
  const sb3 = pi(p, P_STRIDES + 11);
  const sc0 = pi(p, P_STRIDES + 12);
  const sc1 = pi(p, P_STRIDES + 13);
  const sc2 = pi(p, P_STRIDES + 14);
  const sc3 = pi(p, P_STRIDES + 15);
  const out = <usize>pi(p, P_PTRS);
  const xa = <usize>pi(p, P_PTRS + 1);
  const xb = <usize>pi(p, P_PTRS + 2);
  const xc = <usize>pi(p, P_PTRS + 3);
  const vector =
    so3 === 1 && (sa3 === 0 || sa3 === 1) && (sb3 === 0 || sb3 === 1) && (sc3 === 0 || sc3 === 1);
  let idx = task * per;
  while (idx < end) {
    const i3 = idx % d3;
    let rem = idx / d3;
    const i2 = rem % d2;
    rem /= d2;
    const i1 = rem % d1;
    const i0 = rem / d1;
    const run = min(d3 - i3, end - idx);
    let po = out + ((<usize>(i0 * so0 + i1 * so1 + i2 * so2 + i3 * so3)) << 2);
    let pa = xa + ((<usize>(i0 * sa0 + i1 * sa1 + i2 * sa2 + i3 * sa3)) << 2);
    let pb = xb + ((<usize>(i0 * sb0 + i1 * sb1 + i2 * sb2 + i3 * sb3)) << 2);
    let pc = xc + ((<usize>(i0 * sc0 + i1 * sc1 + i2 * sc2 + i3 * sc3)) << 2);
    let e = 0;
    if (vector) {
      // contiguous (stride 1) operands advance 16 bytes a step, broadcast ones (stride 0) stay
      const ka = (<usize>sa3) << 4;
      const kb = (<usize>sb3) << 4;
      const kc = (<usize>sc3) << 4;
      for (; e + 4 <= run; e += 4) {
        const a = sa3 ? v128.load(pa) : v128.load32_splat(pa);
        const b = sb3 ? v128.load(pb) : v128.load32_splat(pb);
        const c = sc3 ? v128.load(pc) : v128.load32_splat(pc);
        v128.store(po, apply(op, a, b, c));
        po += 16;
        pa += ka;
        pb += kb;
        pc += kc;
      }
    }
    const oa = (<usize>sa3) << 2;
    const ob = (<usize>sb3) << 2;
    const oc = (<usize>sc3) << 2;
    const oo = (<usize>so3) << 2;
    for (; e < run; e++) {
      const r = apply(op, v128.load32_splat(pa), v128.load32_splat(pb), v128.load32_splat(pc));
      store<f32>(po, f32x4.extract_lane(r, 0));
      po += oo;
      pa += oa;
      pb += ob;
      pc += oc;
    }
    idx += run;
  }
}
