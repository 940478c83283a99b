// A strided f32 GEMM used by every LoRA product (forward u = x·Aᵀ, y += s·u·Bᵀ and the four
// backward products): out[i, j] (= or +=) alpha · Σ_p lhs(i, p) · rhs(p, j), where each operand is
// a strided 2-D view of a buffer: element (row, col) lives at offset + row·rowStride + col·colStride.
// Transposes are just swapped strides, and a column slice of a fused output (the q/k/v part of qkv,
// gate/up of gateUp) is an offset + row stride, so one pipeline serves all six products.
//
// The tile loop is the one shared with the engine's tiled matmul (gemm-tile.ts: 64×64 output
// tiles, 4×4 per thread, P walked in steps of 16), both operands staged along P element by element
// through their strides. All sizes and strides are uniforms, so there is exactly one shader. The
// reduction runs inside one workgroup (no split-K): skinny outputs such as u [M, r] get ceil(M/64) workgroups, enough for training batches.
//
// Serial kernel (`kernel: 'serial'`, the default on CPU-emulated GPUs): one thread per output
// element sums its p products in order, with no workgroup memory and no barrier. LoRA products are
// skinny (r = 8..64 on one side), so the 64×64 tile is mostly padding, and SwiftShader runs a
// workgroup with barriers as coroutines switching at every barrier: at the demo agent's training
// shape the tiled LoRA products took as long as the model's own matmuls. Same sums, another order.
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';
import { gemmTileGroups, gemmTileWgsl } from './gemm-tile';

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
  /** 'tiled' (default on GPUs) or 'serial' (default where ctx.preferBarrierFree). */
  kernel?: 'tiled' | 'serial';
}

const PARAMS_WGSL = /* wgsl */ `
struct Params {
  m: u32, n: u32, p: u32, accumulate: u32,
  l_off: u32, l_row: u32, l_col: u32, alpha: f32,
  r_off: u32, r_row: u32, r_col: u32, pad0: u32,
  c_off: u32, c_row: u32, c_col: u32, pad1: u32,
}
@group(0) @binding(0) var<storage, read> lhs: array<f32>;
@group(0) @binding(1) var<storage, read> rhs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;`;

export const LORA_GEMM_WGSL = /* wgsl */ `${PARAMS_WGSL}
${gemmTileWgsl({
  m: 'params.m',
  n: 'params.n',
  k: 'params.p',
  loadA: 'for (var q = 0u; q < 4u; q++) { if (a_k + q < params.p) { quad[q] = lhs[params.l_off + a_row * params.l_row + (a_k + q) * params.l_col]; } }',
  loadB: {
    along: 'k',
    code: 'for (var q = 0u; q < 4u; q++) { if (b_k + q < params.p) { quad[q] = rhs[params.r_off + (b_k + q) * params.r_row + b_col * params.r_col]; } }',
  },
  store: `let o = params.c_off + i * params.c_row + j * params.c_col;
        var prior = 0.0;
        if (params.accumulate != 0u) { prior = out[o]; }
        out[o] = prior + params.alpha * value;`,
})}`;

/** Threads per workgroup of the serial kernel (small: SwiftShader runs a workgroup on one core). */
const SERIAL_WORKGROUP = 16;

export const LORA_GEMM_SERIAL_WGSL = /* wgsl */ `${PARAMS_WGSL}

@compute @workgroup_size(${SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * ${SERIAL_WORKGROUP}u;
  if (index >= params.m * params.n) { return; }
  let i = index / params.n;
  let j = index % params.n;
  var value = 0.0;
  for (var q = 0u; q < params.p; q++) {
    value += lhs[params.l_off + i * params.l_row + q * params.l_col] * rhs[params.r_off + q * params.r_row + j * params.r_col];
  }
  let o = params.c_off + i * params.c_row + j * params.c_col;
  var prior = 0.0;
  if (params.accumulate != 0u) { prior = out[o]; }
  out[o] = prior + params.alpha * value;
}`;

/** Elements of a view's buffer that a rows × cols view reaches (one past the last). */
export function viewReach(view: StridedView, rows: number, cols: number): number {
  if (rows === 0 || cols === 0) return 0;
  return view.offset + (rows - 1) * view.rowStride + (cols - 1) * view.colStride + 1;
}

function checkView(op: string, name: string, view: StridedView, rows: number, cols: number) {
  for (const [field, value] of Object.entries({ offset: view.offset, rowStride: view.rowStride, colStride: view.colStride })) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new Error(`${op}: ${name} ${field} must be a non-negative 32-bit integer, got ${value}`);
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
    m,
    n,
    p,
    args.accumulate ? 1 : 0,
    l.offset,
    l.rowStride,
    l.colStride,
    f32Bits(args.alpha),
    r.offset,
    r.rowStride,
    r.colStride,
    0,
    c.offset,
    c.rowStride,
    c.colStride,
    0,
  ]);
  const bindings = [l.buffer, r.buffer, c.buffer, params];
  if ((args.kernel ?? (ctx.preferBarrierFree ? 'serial' : 'tiled')) === 'serial') {
    const groups = ceilDiv(m * n, SERIAL_WORKGROUP);
    const x = Math.max(1, Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension));
    ctx.dispatch(pass, ctx.pipeline(LORA_GEMM_SERIAL_WGSL), bindings, [x, ceilDiv(groups, x)]);
  } else ctx.dispatch(pass, ctx.pipeline(LORA_GEMM_WGSL), bindings, gemmTileGroups(m, n));
}
