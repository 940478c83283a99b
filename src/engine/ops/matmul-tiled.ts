// Tiled matmul for prefill (many rows M): y[r, n] = x[r]·W[n] over one weight chunk.
//
// A 16×16 workgroup computes a 64×64 tile of y, each thread a 4×4 block (4 rows × 4 columns).
// K is walked in steps of 16: the workgroup stages a 64×16 slice of x and the matching 64×16
// slice of W — dequantized once while staging, so the inner loop is plain f32 FMAs whatever the
// format — in workgroup memory (2 × 4 KiB), then every thread does 16 rank-1 updates from it.
// Tiles along K never cross the padded row end (Kp is a multiple of 32), so the weight needs no
// bound checks; x beyond K reads as zero.
import type { MatmulShape } from './matmul-common';
import { matmulHeader } from './matmul-common';
import { paddedCols } from '../quant/formats';

export const TILE = 64;
const TILE_K = 16;

export function tiledWgsl(shape: MatmulShape): string {
  const header = matmulHeader(shape, 'f32');
  const kp = paddedCols(shape.k);
  const kGuard = kp !== shape.k ? ' && k < K' : '';
  return /* wgsl */ `${header.enable}
${header.code}

const KP = ${kp}u;
// [k][4 consecutive rows or columns]: thread (tx, ty) reads a_tile[k·16 + ty] and b_tile[k·16 + tx].
var<workgroup> a_tile: array<vec4<f32>, ${(TILE_K * TILE) / 4}>;
var<workgroup> b_tile: array<vec4<f32>, ${(TILE_K * TILE) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let n_tile = wid.x * ${TILE}u;
  let r_tile = wid.y * ${TILE}u;
  // Staging assignment: thread t loads quad (t % 4) of x row / weight row (t / 4) of the tiles.
  let load_row = t / 4u;
  let load_quad = t % 4u;
  let x_valid = r_tile + load_row < params.m;
  var x_base = 0u;
  if (x_valid) { x_base = x_row_base(r_tile + load_row); }
  let w_row = n_tile + load_row;
  let w_valid = w_row < params.rows;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < KP; k0 += ${TILE_K}u) {
    for (var i = 0u; i < 4u; i++) {
      let k = k0 + load_quad * 4u + i;
      var v = 0.0;
      if (x_valid${kGuard}) { v = x[x_base + k]; }
      a_tile[(load_quad * 4u + i) * 16u + load_row / 4u][load_row % 4u] = v;
    }
    var w = vec4<f32>(0.0);
    if (w_valid) { w = w_quad(w_row, k0 / 4u + load_quad); }
    for (var i = 0u; i < 4u; i++) {
      b_tile[(load_quad * 4u + i) * 16u + load_row / 4u][load_row % 4u] = w[i];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_K}u; kk++) {
      let a = a_tile[kk * 16u + ty];
      let b = b_tile[kk * 16u + tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = r_tile + ty * 4u + i;
    if (r >= params.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n_tile + tx * 4u + j;
      if (n < params.rows) { store(r, n, acc[i][j]); }
    }
  }
}`;
}
