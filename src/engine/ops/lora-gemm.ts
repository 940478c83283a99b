// A strided f32 GEMM used by every LoRA product (forward u = x·Aᵀ, y += s·u·Bᵀ and the four
// backward products): out[i, j] (= or +=) alpha · Σ_p lhs(i, p) · rhs(p, j), where each operand is
// a strided 2-D view of a buffer: element (row, col) lives at offset + row·rowStride + col·colStride.
// Transposes are just swapped strides, and a column slice of a fused output (the q/k/v part of qkv,
// gate/up of gateUp) is an offset + row stride, so one pipeline serves all six products.
//
// Tiling as in the engine's tiled matmul: a 16×16 workgroup computes a 64×64 output tile, each
// thread a 4×4 block, walking P in steps of 16 staged in workgroup memory. All sizes and strides are
// uniforms, so there is exactly one shader. The reduction runs inside one workgroup (no split-K):
// skinny outputs such as u [M, r] get ceil(M/64) workgroups, enough for training batches.
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';

const TILE = 64;
const TILE_P = 16;

/** A strided 2-D view of an f32 buffer: element (row, col) at offset + row·rowStride + col·colStride. */
export interface StridedView {
  buffer: GPUBuffer;
  offset: number;
  rowStride: number;
  colStride: number;
  /** For error messages (default lhs / rhs / out). */
  name?: string;
}

export interface LoraGemmArgs {
  /** [m, p] view. */
  lhs: StridedView;
  /** [p, n] view. */
  rhs: StridedView;
  /** [m, n] view; must not share a buffer with lhs or rhs. */
  out: StridedView;
  m: number;
  n: number;
  p: number;
  alpha: number;
  accumulate: boolean;
}

export const LORA_GEMM_WGSL = /* wgsl */ `
struct Params {
  m: u32, n: u32, p: u32, accumulate: u32,
  l_off: u32, l_row: u32, l_col: u32, alpha: f32,
  r_off: u32, r_row: u32, r_col: u32, pad0: u32,
  c_off: u32, c_row: u32, c_col: u32, pad1: u32,
}
@group(0) @binding(0) var<storage, read> lhs: array<f32>;
@group(0) @binding(1) var<storage, read> rhs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// [p][4 consecutive rows i (or columns j)]: thread (tx, ty) reads l_tile[p·16 + ty], r_tile[p·16 + tx].
var<workgroup> l_tile: array<vec4<f32>, ${(TILE * TILE_P) / 4}>;
var<workgroup> r_tile: array<vec4<f32>, ${(TILE * TILE_P) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let j_tile = wid.x * ${TILE}u;
  let i_tile = wid.y * ${TILE}u;
  // Staging: thread t loads 4 consecutive p of tile row (t / 4) from each operand.
  let load_row = t / 4u;
  let load_p = (t % 4u) * 4u;
  let i_load = i_tile + load_row;
  let j_load = j_tile + load_row;
  var acc: array<vec4<f32>, 4>;
  for (var p0 = 0u; p0 < params.p; p0 += ${TILE_P}u) {
    for (var q = 0u; q < 4u; q++) {
      let p = p0 + load_p + q;
      var a = 0.0;
      if (i_load < params.m && p < params.p) { a = lhs[params.l_off + i_load * params.l_row + p * params.l_col]; }
      l_tile[(load_p + q) * 16u + load_row / 4u][load_row % 4u] = a;
      var b = 0.0;
      if (j_load < params.n && p < params.p) { b = rhs[params.r_off + p * params.r_row + j_load * params.r_col]; }
      r_tile[(load_p + q) * 16u + load_row / 4u][load_row % 4u] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_P}u; kk++) {
      let a = l_tile[kk * 16u + ty];
      let b = r_tile[kk * 16u + tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let i = i_tile + ty * 4u + r;
    if (i >= params.m) { break; }
    for (var c = 0u; c < 4u; c++) {
      let j = j_tile + tx * 4u + c;
      if (j < params.n) {
        let o = params.c_off + i * params.c_row + j * params.c_col;
        var prior = 0.0;
        if (params.accumulate != 0u) { prior = out[o]; }
        out[o] = prior + params.alpha * acc[r][c];
      }
    }
  }
}`;

/** Elements of a view's buffer that a rows × cols view reaches (one past the last). */
export function viewReach(view: StridedView, rows: number, cols: number): number {
  if (rows === 0 || cols === 0) return 0;
  return view.offset + (rows - 1) * view.rowStride + (cols - 1) * view.colStride + 1;
}

function checkView(op: string, name: string, view: StridedView, rows: number, cols: number) {
  for (const [field, value] of Object.entries({ offset: view.offset, rowStride: view.rowStride, colStride: view.colStride })) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`${op}: ${name} ${field} must be a non-negative 32-bit integer, got ${value}`);
  }
  const reach = viewReach(view, rows, cols);
  if (reach > 0xffffffff) throw new Error(`${op}: ${name} reaches element ${reach}, beyond 32-bit indexing`);
  if (view.buffer.size < reach * 4) throw new Error(`${op}: ${name} holds ${view.buffer.size / 4} f32 values, the [${rows}, ${cols}] view reaches ${reach}`);
}

/** Records one strided GEMM. `op` names the caller in error messages. */
export function encodeLoraGemm(ctx: GpuContext, pass: GPUComputePassEncoder, args: LoraGemmArgs, op = 'loraGemm') {
  const { m, n, p } = args;
  for (const [name, value] of Object.entries({ m, n, p })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${op}: ${name} must be a non-negative integer, got ${value}`);
  }
  if (!Number.isFinite(args.alpha)) throw new Error(`${op}: alpha must be finite, got ${args.alpha}`);
  checkView(op, args.lhs.name ?? 'lhs', args.lhs, m, p);
  checkView(op, args.rhs.name ?? 'rhs', args.rhs, p, n);
  checkView(op, args.out.name ?? 'out', args.out, m, n);
  if (args.out.buffer === args.lhs.buffer || args.out.buffer === args.rhs.buffer) throw new Error(`${op}: the output buffer must differ from both inputs`);
  const l = args.lhs;
  const r = args.rhs;
  const c = args.out;
  const params = ctx.params([
    m, n, p, args.accumulate ? 1 : 0,
    l.offset, l.rowStride, l.colStride, f32Bits(args.alpha),
    r.offset, r.rowStride, r.colStride, 0,
    c.offset, c.rowStride, c.colStride, 0,
  ]);
  ctx.dispatch(pass, ctx.pipeline(LORA_GEMM_WGSL), [l.buffer, r.buffer, c.buffer, params], [ceilDiv(n, TILE), ceilDiv(m, TILE)]);
}
