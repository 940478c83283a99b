// Transposed matmul with a packed weight: y[M, K] = x[M, N]·W (or y += …), W = GpuWeight [N, K].
// This is the input gradient of a Linear layer (dX = dY·W): LoRA training backpropagates through
// the frozen, possibly quantized, base weights with it.
//
// Same tiling as matmul-tiled.ts, with the roles swapped: a 16×16 workgroup computes a 64 (rows of
// y) × 64 (columns k) tile, reducing over the weight's rows n in steps of 16. Weight chunks split
// the reduction, so the first chunk writes y (or adds, with `accumulate`) and the others add to it;
// dispatches in one pass run in order, each seeing the previous one's writes.
import { ceilDiv, type GpuContext } from '../gpu/context';
import { hasScales, paddedCols, type WeightFormat } from '../quant/formats';
import type { GpuWeight } from '../weights';
import { weightWgsl } from './matmul-weight-wgsl';

const TILE = 64;
const TILE_N = 16;

export interface MatmulTransposedArgs {
  /** f32 [m, N] (N = weight rows). */
  x: GPUBuffer;
  weight: GpuWeight;
  /** f32 [m, K] (K = weight cols). */
  y: GPUBuffer;
  m: number;
  /** y += x·W instead of y = x·W. */
  accumulate?: boolean;
}

export function matmulTransposedWgsl(format: WeightFormat, n: number, k: number, shaderF16: boolean): string {
  const weight = weightWgsl(format, k, { data: 1, scales: 4 }, shaderF16);
  const kp = paddedCols(k);
  return /* wgsl */ `${weight.enable}
struct Params { rows: u32, row_start: u32, m: u32, add: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${weight.code}

const N = ${n}u;
const K = ${k}u;
const QUADS = ${kp / 4}u;
// [n][4 consecutive rows of y or columns k]: thread (tx, ty) reads x_tile[j·16 + ty], w_tile[j·16 + tx].
var<workgroup> x_tile: array<vec4<f32>, ${(TILE_N * TILE) / 4}>;
var<workgroup> w_tile: array<vec4<f32>, ${(TILE_N * TILE) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let k_tile = wid.x * ${TILE}u;
  let r_tile = wid.y * ${TILE}u;
  // x staging: thread t loads 4 values of y-row (t / 4), weight rows 4·(t % 4)..+3 of the step.
  let x_row = r_tile + t / 4u;
  let x_quad = t % 4u;
  // weight staging: thread t loads quad (t % 16) of the tile's columns from step row (t / 16).
  let w_step_row = t / 16u;
  let w_quad_index = k_tile / 4u + t % 16u;
  var acc: array<vec4<f32>, 4>;
  for (var n0 = 0u; n0 < params.rows; n0 += ${TILE_N}u) {
    for (var i = 0u; i < 4u; i++) {
      let n = n0 + x_quad * 4u + i;
      var v = 0.0;
      if (x_row < params.m && n < params.rows) { v = x[x_row * N + params.row_start + n]; }
      x_tile[(x_quad * 4u + i) * 16u + (t / 4u) / 4u][(t / 4u) % 4u] = v;
    }
    var w = vec4<f32>(0.0);
    let n = n0 + w_step_row;
    if (n < params.rows && w_quad_index < QUADS) { w = w_quad(n, w_quad_index); }
    w_tile[w_step_row * 16u + t % 16u] = w;
    workgroupBarrier();
    for (var j = 0u; j < ${TILE_N}u; j++) {
      let a = x_tile[j * 16u + ty];
      let b = w_tile[j * 16u + tx];
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
      let k = k_tile + tx * 4u + j;
      if (k < K) {
        let index = r * K + k;
        if (params.add != 0u) { y[index] += acc[i][j]; } else { y[index] = acc[i][j]; }
      }
    }
  }
}`;
}

export function encodeMatmulTransposed(ctx: GpuContext, pass: GPUComputePassEncoder, args: MatmulTransposedArgs) {
  const { weight: w, m } = args;
  const name = `matmulTransposed(${w.name})`;
  if (!Number.isInteger(m) || m < 1) throw new Error(`${name}: m = ${m} must be a positive integer`);
  if (args.x.size < m * w.rows * 4) throw new Error(`${name}: x holds ${args.x.size} bytes, needs ${m}×${w.rows} f32`);
  if (args.y.size < m * w.cols * 4) throw new Error(`${name}: y holds ${args.y.size} bytes, needs ${m}×${w.cols} f32`);
  if (w.chunks.length === 0) throw new Error(`${name}: weight has no chunks (destroyed?)`);
  const pipeline = ctx.pipeline(matmulTransposedWgsl(w.format, w.rows, w.cols, ctx.shaderF16));
  w.chunks.forEach((chunk, i) => {
    const add = args.accumulate || i > 0 ? 1 : 0;
    const bindings = [args.x, chunk.data, args.y, ctx.params([chunk.rows, chunk.rowStart, m, add])];
    if (hasScales(w.format)) bindings.push(chunk.scales!);
    ctx.dispatch(pass, pipeline, bindings, [ceilDiv(paddedCols(w.cols), TILE), ceilDiv(m, TILE)]);
  });
}

/** CPU reference: y[m, K] = x[m, N]·W (+ `into`), W f32 [N, K] row-major. */
export function matmulTransposedCpu(x: Float32Array, w: Float32Array, m: number, n: number, k: number, into?: Float32Array): Float32Array {
  if (w.length !== n * k) throw new Error(`matmulTransposedCpu: weight has ${w.length} values, expected ${n}×${k}`);
  if (x.length < m * n) throw new Error(`matmulTransposedCpu: x has ${x.length} values, expected ${m}×${n}`);
  const y = into ? Float32Array.from(into) : new Float32Array(m * k);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      const a = x[r * n + c];
      for (let i = 0; i < k; i++) y[r * k + i] += a * w[c * k + i];
    }
  }
  return y;
}
