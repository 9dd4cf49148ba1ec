/** WGSL math helpers shared by several kernels. */

// WGSL only promises sin/cos to 2^-11 absolute (SwiftShader is that coarse): reduce by pi/2 in two
// parts (Cody-Waite) and evaluate Taylor/minimax polynomials on [-pi/4, pi/4] for ~1e-7.
export const SINCOS_WGSL = `
fn sinPoly(r: f32) -> f32 { let r2 = r * r; return r + r * r2 * (-0.16666667 + r2 * (0.008333331 + r2 * (-0.00019840874 + r2 * 2.7525562e-6))); }
fn cosPoly(r: f32) -> f32 { let r2 = r * r; return 1.0 + r2 * (-0.5 + r2 * (0.041666664 + r2 * (-0.0013888397 + r2 * 2.4390449e-5))); }
fn quadrant(x: f32) -> vec2f {
  let k = round(x * 0.63661975);
  let r = (x - k * 1.5707963705062866) + k * 4.371139000186241e-8;
  return vec2f(r, k);
}
fn sin_(x: f32) -> f32 {
  let q = quadrant(x); let r = q.x; let n = i32(q.y) & 3;
  if (n == 0) { return sinPoly(r); } if (n == 1) { return cosPoly(r); } if (n == 2) { return -sinPoly(r); } return -cosPoly(r);
}
fn cos_(x: f32) -> f32 {
  let q = quadrant(x); let r = q.x; let n = i32(q.y) & 3;
  if (n == 0) { return cosPoly(r); } if (n == 1) { return -sinPoly(r); } if (n == 2) { return -cosPoly(r); } return sinPoly(r);
}`;
