// RMSNorm as in Hugging Face's Qwen2RMSNorm / Qwen3RMSNorm: y = (x * rsqrt(mean(x²) + eps)) * w,
// computed in f32. One workgroup normalizes one vector of `length` values.
//
// The input is a strided view so the same kernel serves the model's input/post-attention norms
// ([tokens, hidden], groups = 1) and Qwen3's per-head q_norm/k_norm, which run directly on the
// Q/K projection output or on a fused QKV buffer: vector (r, g) starts at
//   offset + r * rowStride + g * groupStride.
// Without `out` the kernel writes back in place (each thread rewrites only the values it read);
// with `out` it writes a contiguous [rows, groups, length] result.
//
// Serial kernel (`kernel: 'serial'`, the default on CPU-emulated GPUs): one thread per vector sums
// x² in order and writes its vector, with no workgroup memory or barrier (SwiftShader runs a
// workgroup's barriers as coroutine switches: the tree reduction cost 17% of a demo-agent prefill).
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';

const WORKGROUP = 128;

export interface RmsNormLayout {
  /** Number of outer rows (tokens). Dynamic: passed per call. */
  rows: number;
  /** Values per normalized vector (hidden size, or head_dim for q_norm/k_norm). */
  length: number;
  /** Normalized vectors per outer row (heads for q_norm/k_norm); default 1. */
  groups?: number;
  /** Element offset of the first value in `x`; default 0. */
  offset?: number;
  /** Elements between consecutive outer rows of `x`; default groups * length. */
  rowStride?: number;
  /** Elements between consecutive vectors within a row of `x`; default length. */
  groupStride?: number;
}

export interface RmsNormArgs extends RmsNormLayout {
  x: GPUBuffer;
  /** f32 [length]. */
  weight: GPUBuffer;
  /** Contiguous f32 [rows, groups, length]; omit to normalize `x` in place. */
  out?: GPUBuffer;
  eps: number;
  /** 'tree' (one workgroup per vector; default on GPUs) or 'serial' (default where ctx.preferBarrierFree). */
  kernel?: RmsNormKernel;
}

export type RmsNormKernel = 'tree' | 'serial';
/** Threads per workgroup of the serial kernel (small: SwiftShader runs a workgroup on one core). */
const SERIAL_WORKGROUP = 16;

interface ResolvedLayout {
  rows: number;
  length: number;
  groups: number;
  offset: number;
  rowStride: number;
  groupStride: number;
}

function resolveLayout(layout: RmsNormLayout): ResolvedLayout {
  const groups = layout.groups ?? 1;
  const length = layout.length;
  const resolved = {
    rows: layout.rows,
    length,
    groups,
    offset: layout.offset ?? 0,
    rowStride: layout.rowStride ?? groups * length,
    groupStride: layout.groupStride ?? length,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`rmsNorm: ${name} must be a non-negative integer, got ${value}`);
  }
  if (length === 0 || groups === 0) throw new Error('rmsNorm: length and groups must be positive');
  if (groups > 1 && resolved.groupStride < length) throw new Error(`rmsNorm: groupStride ${resolved.groupStride} overlaps vectors of length ${length}`);
  return resolved;
}

/** Elements of `x` the view reaches (one past the last value touched). */
function viewExtent(l: ResolvedLayout): number {
  if (l.rows === 0) return 0;
  return l.offset + (l.rows - 1) * l.rowStride + (l.groups - 1) * l.groupStride + l.length;
}

export function rmsNormWgsl(l: Omit<ResolvedLayout, 'rows'>, eps: number, inPlace: boolean, kernel: RmsNormKernel = 'tree'): string {
  const outBinding = inPlace ? '' : '@group(0) @binding(3) var<storage, read_write> y: array<f32>;';
  const store = inPlace ? 'x[src + i] = (x[src + i] * inv) * weight[i];' : 'y[dst + i] = (x[src + i] * inv) * weight[i];';
  return /* wgsl */ `
struct Params { vectors: u32 }
@group(0) @binding(0) var<storage, ${inPlace ? 'read_write' : 'read'}> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${outBinding}

const LENGTH = ${l.length}u;
const GROUPS = ${l.groups}u;
const OFFSET = ${l.offset}u;
const ROW_STRIDE = ${l.rowStride}u;
const GROUP_STRIDE = ${l.groupStride}u;
const EPS = bitcast<f32>(${f32Bits(eps)}u);
${kernel === 'serial' ? serialMain(store) : treeMain(store)}`;
}

function serialMain(store: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let vidx = gid.x + gid.y * groups.x * ${SERIAL_WORKGROUP}u;
  if (vidx >= params.vectors) { return; }
  let src = OFFSET + (vidx / GROUPS) * ROW_STRIDE + (vidx % GROUPS) * GROUP_STRIDE;
  let dst = vidx * LENGTH;
  var sum = 0.0;
  for (var i = 0u; i < LENGTH; i++) {
    let v = x[src + i];
    sum += v * v;
  }
  let inv = inverseSqrt(sum / f32(LENGTH) + EPS);
  for (var i = 0u; i < LENGTH; i++) {
    ${store}
  }
}`;
}

function treeMain(store: string): string {
  return /* wgsl */ `
var<workgroup> partial: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let vidx = wg.x + wg.y * groups.x;
  // Uniform across the workgroup, so the early return keeps barriers in uniform control flow.
  if (vidx >= params.vectors) { return; }
  let src = OFFSET + (vidx / GROUPS) * ROW_STRIDE + (vidx % GROUPS) * GROUP_STRIDE;
  let dst = vidx * LENGTH;
  var sum = 0.0;
  for (var i = lid; i < LENGTH; i += ${WORKGROUP}u) {
    let v = x[src + i];
    sum += v * v;
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(LENGTH) + EPS);
  for (var i = lid; i < LENGTH; i += ${WORKGROUP}u) {
    ${store}
  }
}`;
}

export function encodeRmsNorm(ctx: GpuContext, pass: GPUComputePassEncoder, args: RmsNormArgs) {
  const l = resolveLayout(args);
  if (!(args.eps >= 0)) throw new Error(`rmsNorm: eps must be a non-negative number, got ${args.eps}`);
  const extent = viewExtent(l);
  if (args.x.size < extent * 4) throw new Error(`rmsNorm: x holds ${args.x.size / 4} f32 values but the view reaches ${extent}`);
  if (args.weight.size < l.length * 4) throw new Error(`rmsNorm: weight holds fewer than ${l.length} f32 values`);
  const vectors = l.rows * l.groups;
  if (args.out && args.out.size < vectors * l.length * 4) throw new Error(`rmsNorm: out holds fewer than ${vectors * l.length} f32 values`);
  if (args.out === args.x) throw new Error('rmsNorm: for in-place normalization omit `out` instead of passing x');
  const kernel = args.kernel ?? (ctx.preferBarrierFree ? 'serial' : 'tree');
  const pipeline = ctx.pipeline(rmsNormWgsl(l, args.eps, !args.out, kernel));
  const bindings = [args.x, args.weight, ctx.params([vectors])];
  if (args.out) bindings.push(args.out);
  const workgroups = kernel === 'serial' ? ceilDiv(vectors, SERIAL_WORKGROUP) : vectors;
  const x = Math.max(1, Math.min(workgroups, ctx.device.limits.maxComputeWorkgroupsPerDimension));
  ctx.dispatch(pass, pipeline, bindings, [x, ceilDiv(workgroups, x)]);
}

/**
 * CPU reference. Returns the contiguous [rows, groups, length] result (what `out` receives, or
 * what the view holds after an in-place run). Accumulates in f64, rounding like f32 at the end.
 */
export function rmsNormCpu(x: Float32Array, weight: Float32Array, layout: RmsNormLayout, eps: number): Float32Array {
  const l = resolveLayout(layout);
  if (x.length < viewExtent(l)) throw new Error(`rmsNormCpu: x holds ${x.length} values but the view reaches ${viewExtent(l)}`);
  const out = new Float32Array(l.rows * l.groups * l.length);
  for (let r = 0; r < l.rows; r++) {
    for (let g = 0; g < l.groups; g++) {
      const src = l.offset + r * l.rowStride + g * l.groupStride;
      let sum = 0;
      for (let i = 0; i < l.length; i++) sum += x[src + i] * x[src + i];
      const inv = Math.fround(1 / Math.sqrt(Math.fround(sum / l.length) + eps));
      const dst = (r * l.groups + g) * l.length;
      for (let i = 0; i < l.length; i++) out[dst + i] = Math.fround(x[src + i] * inv) * weight[i];
    }
  }
  return out;
}
