// GEMV-style matmul for decode (few rows M): y[r, n] = x[r]·W[n] over one weight chunk.
//
// A workgroup of WG threads is split into column groups of LANES threads; each column group computes
// R consecutive output columns n for all M rows. LANES = WG when K is long (every real Qwen shape),
// fewer when K has fewer than WG blocks, so short-K weights (the tiny test models' 151936-row LM
// head) do not leave most threads idle and launch N/R workgroups. Lanes split K into blocks of 8
// elements (block b covers k = 8b..8b+7, one q4 word): lane l takes blocks l, l+LANES, ... so
// neighbouring threads read neighbouring weight words (coalesced). Per block the thread
// decodes R weight blocks once and applies each to the M x blocks it holds in registers, so every
// weight byte is read exactly once per step whatever M is. Partial sums meet in a workgroup tree
// reduction within each column group; its first R·M lanes write y.
//
// Memory traffic per decode step (memory-bound on real GPUs), for a weight [N, K]:
//   weight bytes = N·K·bytesPerElement(format) (q4: N·K·(0.5 + 2/32), q8: N·K·(1 + 2/32), f16: 2·N·K,
//   f32: 4·N·K) + x: M·K·4 per workgroup (ceil(N/R) workgroups; served from cache) + y: M·N·4.
// For Qwen2.5-0.5B in q4 that is ≈ 0.56 B per parameter, ~280 MB per token including the tied LM head.
//
// The serial variant (gemvSerialWgsl) computes the same sums with no workgroup memory and no
// barrier, for CPU-emulated GPUs: SwiftShader runs a workgroup that contains a barrier as
// coroutines, one per 4-lane subgroup, switching at every barrier, which made the barrier-bound
// reduction cost far more than the arithmetic at decode shapes (the demo agent's LM head, 4096×96:
// 256 workgroups × 5 barriers). One thread owns R columns and walks the same LANES partial sums
// (lane l: blocks l, l + LANES, …, each summed in the same order) and adds them in the tree
// reduction's order, so its results equal the parallel kernel's bit for bit.
import type { MatmulShape } from './matmul-common';
import { matmulHeader } from './matmul-common';
import { paddedCols } from '../quant/formats';

export const GEMV_WORKGROUP = 64;
/** Output columns per workgroup. */
export const GEMV_COLUMNS = 4;
/** Largest M the GEMV kernel handles (its accumulators and reduction memory grow with M). */
export const GEMV_MAX_M = 8;

/** One lane's partial dot products for R columns × M rows over its strided K blocks (into acc):
 *  the loop both GEMV kernels share, so the serial kernel's lane partials are the parallel one's. */
function lanePartialsWgsl(R: number, indent: string): string {
  return `
for (var b = lane; b < BLOCKS; b += LANES) {
  var w_lo: array<vec4<f32>, ${R}>;
  var w_hi: array<vec4<f32>, ${R}>;
  for (var c = 0u; c < R; c++) {
    let n = min(n_first + c, params.rows - 1u); // clamped rows are computed but never stored
    w_lo[c] = w_quad(n, 2u * b);
    w_hi[c] = w_quad(n, 2u * b + 1u);
  }
  for (var r = 0u; r < M; r++) {
    if (r >= params.m) { break; }
    let x_lo = x_quad(x_base[r], 2u * b);
    let x_hi = x_quad(x_base[r], 2u * b + 1u);
    for (var c = 0u; c < R; c++) {
      acc[c * M + r] += dot(w_lo[c], x_lo) + dot(w_hi[c], x_hi);
    }
  }
}`
    .trim()
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

/**
 * The M a GEMV pipeline is built for: 1, 2, 4 or 8. Rows beyond the call's actual M are skipped at
 * run time, so prefill chunks of 1..8 tokens share four pipelines per weight shape instead of eight.
 */
export function gemvRowCapacity(m: number): number {
  if (!Number.isInteger(m) || m < 1 || m > GEMV_MAX_M) throw new Error(`gemv: M = ${m} is outside 1..${GEMV_MAX_M}`);
  return m === 1 ? 1 : m === 2 ? 2 : m <= 4 ? 4 : 8;
}

/** Threads that share one column group's K loop: WG, or the next power of two ≥ K's block count. */
export function gemvLanes(k: number): number {
  const blocks = paddedCols(k) / 8;
  let lanes = 1;
  while (lanes < blocks && lanes < GEMV_WORKGROUP) lanes *= 2;
  return lanes;
}

/** Output columns one GEMV workgroup computes for a weight with K = `k` columns. */
export function gemvColumnsPerWorkgroup(k: number): number {
  return (GEMV_WORKGROUP / gemvLanes(k)) * GEMV_COLUMNS;
}

/** @param m row capacity (see gemvRowCapacity); the actual M comes from params.m ≤ capacity. */
export function gemvWgsl(shape: MatmulShape, m: number): string {
  if (gemvRowCapacity(m) !== m) throw new Error(`gemv: row capacity ${m} is not one of 1, 2, 4, 8`);
  const vecX = shape.k % 4 === 0;
  const header = matmulHeader(shape, vecX ? 'vec4<f32>' : 'f32');
  const blocks = paddedCols(shape.k) / 8;
  const WG = GEMV_WORKGROUP;
  const R = GEMV_COLUMNS;
  // x quad loader: vectorized when rows are vec4-aligned; otherwise scalar with a bound check for
  // the padded tail (the weight's padding is zero, but x beyond K may be the next row or out of range).
  const xQuad = vecX
    ? /* wgsl */ `fn x_quad(base: u32, q: u32) -> vec4<f32> { ${shape.k === paddedCols(shape.k) ? 'return x[base + q];' : `if (q * 4u >= K) { return vec4<f32>(0.0); } return x[base + q];`} }`
    : /* wgsl */ `fn x_quad(base: u32, q: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) { let k = q * 4u + i; if (k < K) { v[i] = x[base + k]; } }
  return v;
}`;
  const lanes = gemvLanes(shape.k);
  return /* wgsl */ `${header.enable}
${header.code}
${xQuad}

const M = ${m}u;
const R = ${R}u;
const WG = ${WG}u;
const LANES = ${lanes}u;
const COLUMN_GROUPS = ${WG / lanes}u;
const BLOCKS = ${blocks}u;
var<workgroup> partial: array<f32, ${WG * R * m}>;

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let t = lid.x;
  let lane = t % LANES;
  let wg_first = (wid.x + wid.y * groups.x) * COLUMN_GROUPS * R;
  if (wg_first >= params.rows) { return; } // whole workgroup: uniform
  let n_first = wg_first + (t / LANES) * R;
  var x_base: array<u32, ${m}>;
  for (var r = 0u; r < M; r++) { if (r < params.m) { x_base[r] = x_row_base(r); } }
  // acc[c·M + r]: column n_first + c, row r.
  var acc: array<f32, ${R * m}>;
${lanePartialsWgsl(R, '  ')}
  for (var i = 0u; i < R * M; i++) { partial[i * WG + t] = acc[i]; }
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      for (var i = 0u; i < R * M; i++) { partial[i * WG + t] += partial[i * WG + t + stride]; }
    }
    workgroupBarrier();
  }
  for (var i = lane; i < R * M; i += LANES) {
    let n = n_first + i / M;
    if (n < params.rows && i % M < params.m) { store(i % M, n, partial[i * WG + t - lane]); }
  }
}`;
}

/** Threads per workgroup of the serial GEMV (small: a SwiftShader workgroup runs on one core). */
export const GEMV_SERIAL_WORKGROUP = 32;

/** Output columns one serial-GEMV workgroup computes. */
export function gemvSerialColumnsPerWorkgroup(): number {
  return GEMV_SERIAL_WORKGROUP * GEMV_COLUMNS;
}

/**
 * The GEMV without workgroup memory or barriers (see the file comment): thread t computes columns
 * t·R..t·R+R-1 for all M rows. The parallel kernel's lane partials are produced one at a time in the
 * order its tree reduction combines them (lane bitreverse(i) for i = 0..LANES-1: 0, LANES/2,
 * LANES/4, 3·LANES/4, …) and merged on a stack like a binary counter, left operand first, so every
 * addition is the one the parallel kernel performs. Stack depth: log2(LANES) + 1.
 */
export function gemvSerialWgsl(shape: MatmulShape, m: number): string {
  if (gemvRowCapacity(m) !== m) throw new Error(`gemv: row capacity ${m} is not one of 1, 2, 4, 8`);
  const vecX = shape.k % 4 === 0;
  const header = matmulHeader(shape, vecX ? 'vec4<f32>' : 'f32');
  const blocks = paddedCols(shape.k) / 8;
  const R = GEMV_COLUMNS;
  const lanes = gemvLanes(shape.k);
  const levels = Math.log2(lanes);
  const xQuad = vecX
    ? /* wgsl */ `fn x_quad(base: u32, q: u32) -> vec4<f32> { ${shape.k === paddedCols(shape.k) ? 'return x[base + q];' : `if (q * 4u >= K) { return vec4<f32>(0.0); } return x[base + q];`} }`
    : /* wgsl */ `fn x_quad(base: u32, q: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) { let k = q * 4u + i; if (k < K) { v[i] = x[base + k]; } }
  return v;
}`;
  return /* wgsl */ `${header.enable}
${header.code}
${xQuad}

const M = ${m}u;
const R = ${R}u;
const LANES = ${lanes}u;
const LEVELS = ${levels}u;
const DEPTH = ${levels + 1}u;
const BLOCKS = ${blocks}u;

@compute @workgroup_size(${GEMV_SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let thread = gid.x + gid.y * groups.x * ${GEMV_SERIAL_WORKGROUP}u;
  let n_first = thread * R;
  if (n_first >= params.rows) { return; }
  var x_base: array<u32, ${m}>;
  for (var r = 0u; r < M; r++) { if (r < params.m) { x_base[r] = x_row_base(r); } }
  // stack[(c·M + r)·DEPTH + level]: pending sums of column n_first + c, row r.
  var stack: array<f32, ${R * m * (levels + 1)}>;
  var top = 0u;
  for (var i = 0u; i < LANES; i++) {
    let lane = ${levels === 0 ? '0u' : `reverseBits(i) >> ${32 - levels}u`}; // i bit-reversed within LEVELS bits
    // Zeroed explicitly: SwiftShader keeps a loop-scoped var's value from the previous iteration.
    var acc: array<f32, ${R * m}>;
    for (var j = 0u; j < R * M; j++) { acc[j] = 0.0; }
${lanePartialsWgsl(R, '    ')}
    for (var j = 0u; j < R * M; j++) { stack[j * DEPTH + top] = acc[j]; }
    top++;
    // Leaf i + 1 completes one subtree per trailing zero bit of i + 1: merge it (left + right).
    for (var done = i + 1u; (done & 1u) == 0u; done >>= 1u) {
      top--;
      for (var j = 0u; j < R * M; j++) { stack[j * DEPTH + top - 1u] = stack[j * DEPTH + top - 1u] + stack[j * DEPTH + top]; }
    }
  }
  for (var c = 0u; c < R; c++) {
    let n = n_first + c;
    if (n >= params.rows) { break; }
    for (var r = 0u; r < M; r++) {
      if (r < params.m) { store(r, n, stack[(c * M + r) * DEPTH]); }
    }
  }
}`;
}
