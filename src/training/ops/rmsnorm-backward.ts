// RMSNorm backward (the forward is src/engine/ops/rmsnorm.ts): for one vector x of length n with
// r = 1 / sqrt(mean(x²) + eps) and y = x · r · w,
//   dX = r · (w ⊙ dY) − x · r³ · mean(x ⊙ w ⊙ dY)
//   dW = Σ_vectors dY ⊙ x · r          (optional: the base weight is frozen, but dW is cheap:
//                                       two more dispatches, one r per vector in a scratch buffer)
//
// Views: `x` is the SAVED forward input (the forward may have normalized in place, so the caller
// keeps a copy) read through the same strided view as the forward (rows, groups, length, offset,
// rowStride, groupStride), which serves Qwen3's per-head q_norm/k_norm on a fused QKV buffer.
// dY and dX share a second view (`grad`, defaulting to the x view): on a fused dQKV buffer the
// gradient of the Q part is rewritten in place, leaving the K/V gradients alone.
//
// Output modes: omit `dX` to overwrite dY in place; pass `dX` to write (or, with `accumulate`, add)
// into a separate buffer, e.g. the residual-stream gradient that also receives the skip path.
// One workgroup handles one vector; every thread rewrites only the values it read, so in place is safe.
// The dX kernel has a serial form like the forward's (one thread per vector, no barrier; the
// default on CPU-emulated GPUs): it reads each value before writing it, so in place stays safe.
import { ceilDiv, f32Bits, type GpuContext } from '../../engine/gpu/context';
import type { RmsNormKernel, RmsNormLayout } from '../../engine/ops/rmsnorm';

const WORKGROUP = 128;

/** Where a gradient vector (r, g) starts: offset + r * rowStride + g * groupStride. */
export interface GradView {
  offset?: number;
  rowStride?: number;
  groupStride?: number;
}

export interface RmsNormBackwardArgs extends RmsNormLayout {
  /** dX kernel: 'tree' (default on GPUs) or 'serial' (default where ctx.preferBarrierFree). */
  kernel?: RmsNormKernel;
  /** The saved forward input, read through the layout's view. */
  x: GPUBuffer;
  /** f32 [length]. */
  weight: GPUBuffer;
  /** Gradient of the forward output, read through `grad` (default: the x view). */
  dY: GPUBuffer;
  /** Omit to overwrite dY in place; else written through the same `grad` view. */
  dX?: GPUBuffer;
  /** dX += instead of dX = (needs a separate dX). */
  accumulate?: boolean;
  grad?: GradView;
  eps: number;
  /**
   * Optional dW: `dWeight` f32 [length] is overwritten with Σ dY ⊙ x · r (computed before an
   * in-place dX overwrites dY); `invRmsScratch` f32 [rows · groups] receives each vector's r.
   */
  weightGrad?: { dWeight: GPUBuffer; invRmsScratch: GPUBuffer };
}

export interface ResolvedView {
  offset: number;
  rowStride: number;
  groupStride: number;
}

export interface ResolvedRmsNormLayout extends ResolvedView {
  rows: number;
  length: number;
  groups: number;
  /** The dY/dX view. */
  grad: ResolvedView;
}

export function resolveRmsNormBackwardLayout(layout: RmsNormLayout & { grad?: GradView }): ResolvedRmsNormLayout {
  const groups = layout.groups ?? 1;
  const length = layout.length;
  const xView = {
    offset: layout.offset ?? 0,
    rowStride: layout.rowStride ?? groups * length,
    groupStride: layout.groupStride ?? length,
  };
  const grad = {
    offset: layout.grad?.offset ?? xView.offset,
    rowStride: layout.grad?.rowStride ?? xView.rowStride,
    groupStride: layout.grad?.groupStride ?? xView.groupStride,
  };
  const all = {
    rows: layout.rows,
    length,
    groups,
    ...xView,
    'grad.offset': grad.offset,
    'grad.rowStride': grad.rowStride,
    'grad.groupStride': grad.groupStride,
  };
  for (const [name, value] of Object.entries(all)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`rmsNormBackward: ${name} must be a non-negative integer, got ${value}`);
  }
  if (length === 0 || groups === 0) throw new Error('rmsNormBackward: length and groups must be positive');
  if (groups > 1 && (xView.groupStride < length || grad.groupStride < length)) {
    throw new Error(`rmsNormBackward: a groupStride (x ${xView.groupStride}, grad ${grad.groupStride}) overlaps vectors of length ${length}`);
  }
  return { rows: layout.rows, length, groups, ...xView, grad };
}

/** Elements a view reaches (one past the last value touched). */
export function viewExtent(l: { rows: number; groups: number; length: number }, v: ResolvedView): number {
  if (l.rows === 0) return 0;
  return v.offset + (l.rows - 1) * v.rowStride + (l.groups - 1) * v.groupStride + l.length;
}

type OutputMode = 'in-place' | 'write' | 'accumulate';

function viewConstants(l: ResolvedRmsNormLayout): string {
  return `const LENGTH = ${l.length}u;
const GROUPS = ${l.groups}u;
const X_OFFSET = ${l.offset}u;
const X_ROW_STRIDE = ${l.rowStride}u;
const X_GROUP_STRIDE = ${l.groupStride}u;
const G_OFFSET = ${l.grad.offset}u;
const G_ROW_STRIDE = ${l.grad.rowStride}u;
const G_GROUP_STRIDE = ${l.grad.groupStride}u;
fn xStart(v: u32) -> u32 { return X_OFFSET + (v / GROUPS) * X_ROW_STRIDE + (v % GROUPS) * X_GROUP_STRIDE; }
fn gStart(v: u32) -> u32 { return G_OFFSET + (v / GROUPS) * G_ROW_STRIDE + (v % GROUPS) * G_GROUP_STRIDE; }`;
}

const SERIAL_WORKGROUP = 16;

/** dX kernel: one workgroup per vector, two tree reductions (Σx², Σx·w·dY) in one pass; or serial. */
export function rmsNormBackwardWgsl(l: ResolvedRmsNormLayout, eps: number, mode: OutputMode, kernel: RmsNormKernel = 'tree'): string {
  const inPlace = mode === 'in-place';
  const store = inPlace ? 'dy[g + i] = value;' : mode === 'accumulate' ? 'dx[g + i] += value;' : 'dx[g + i] = value;';
  return /* wgsl */ `
struct Params { vectors: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, ${inPlace ? 'read_write' : 'read'}> dy: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${inPlace ? '' : '@group(0) @binding(4) var<storage, read_write> dx: array<f32>;'}

${viewConstants(l)}
const EPS = bitcast<f32>(${f32Bits(eps)}u);
${kernel === 'serial' ? serialBackwardMain(store) : treeBackwardMain(store)}`;
}

function serialBackwardMain(store: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let vidx = gid.x + gid.y * groups.x * ${SERIAL_WORKGROUP}u;
  if (vidx >= params.vectors) { return; }
  let s = xStart(vidx);
  let g = gStart(vidx);
  var sums = vec2f(0.0);
  for (var i = 0u; i < LENGTH; i++) {
    let xv = x[s + i];
    sums += vec2f(xv * xv, xv * weight[i] * dy[g + i]);
  }
  let inv = inverseSqrt(sums.x / f32(LENGTH) + EPS);
  let coef = inv * inv * inv * (sums.y / f32(LENGTH));
  for (var i = 0u; i < LENGTH; i++) {
    let value = inv * weight[i] * dy[g + i] - x[s + i] * coef;
    ${store}
  }
}`;
}

function treeBackwardMain(store: string): string {
  return /* wgsl */ `
var<workgroup> partial: array<vec2f, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let vidx = wg.x + wg.y * groups.x;
  // Uniform across the workgroup, so the early return keeps barriers in uniform control flow.
  if (vidx >= params.vectors) { return; }
  let s = xStart(vidx);
  let g = gStart(vidx);
  var acc = vec2f(0.0);
  for (var i = lid; i < LENGTH; i += ${WORKGROUP}u) {
    let xv = x[s + i];
    acc += vec2f(xv * xv, xv * weight[i] * dy[g + i]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let sums = partial[0];
  let inv = inverseSqrt(sums.x / f32(LENGTH) + EPS);
  // r³ · mean(x ⊙ w ⊙ dY), the coefficient of the x term.
  let coef = inv * inv * inv * (sums.y / f32(LENGTH));
  for (var i = lid; i < LENGTH; i += ${WORKGROUP}u) {
    let value = inv * weight[i] * dy[g + i] - x[s + i] * coef;
    ${store}
  }
}`;
}

/** r = 1/rms of every vector, one workgroup per vector: the dW kernel's per-vector scale. */
export function rmsNormInvRmsWgsl(l: ResolvedRmsNormLayout, eps: number): string {
  return /* wgsl */ `
struct Params { vectors: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> invRms: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

${viewConstants(l)}
const EPS = bitcast<f32>(${f32Bits(eps)}u);
var<workgroup> partial: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let vidx = wg.x + wg.y * groups.x;
  if (vidx >= params.vectors) { return; }
  let s = xStart(vidx);
  var sum = 0.0;
  for (var i = lid; i < LENGTH; i += ${WORKGROUP}u) { let xv = x[s + i]; sum += xv * xv; }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { invRms[vidx] = inverseSqrt(partial[0] / f32(LENGTH) + EPS); }
}`;
}

/**
 * dW kernel: one workgroup per weight index i; threads stride over the vectors and a fixed tree
 * sums the partials, so the result is deterministic.
 */
export function rmsNormWeightGradWgsl(l: ResolvedRmsNormLayout): string {
  return /* wgsl */ `
struct Params { vectors: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> invRms: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

${viewConstants(l)}
var<workgroup> partial: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wg.x + wg.y * groups.x;
  if (i >= LENGTH) { return; }
  var acc = 0.0;
  for (var v = lid; v < params.vectors; v += ${WORKGROUP}u) {
    acc += dy[gStart(v) + i] * x[xStart(v) + i] * invRms[v];
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dw[i] = partial[0]; }
}`;
}

function grid(ctx: GpuContext, count: number): [number, number] {
  const x = Math.min(count, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  return [x, ceilDiv(count, x)];
}

export function encodeRmsNormBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: RmsNormBackwardArgs) {
  const l = resolveRmsNormBackwardLayout(args);
  if (!(args.eps >= 0)) throw new Error(`rmsNormBackward: eps must be a non-negative number, got ${args.eps}`);
  const xExtent = viewExtent(l, l);
  const gExtent = viewExtent(l, l.grad);
  if (args.x.size < xExtent * 4) throw new Error(`rmsNormBackward: x holds ${args.x.size / 4} f32 values but the view reaches ${xExtent}`);
  if (args.dY.size < gExtent * 4) throw new Error(`rmsNormBackward: dY holds ${args.dY.size / 4} f32 values but the grad view reaches ${gExtent}`);
  if (args.dX && args.dX.size < gExtent * 4) throw new Error(`rmsNormBackward: dX holds ${args.dX.size / 4} f32 values but the grad view reaches ${gExtent}`);
  if (args.weight.size < l.length * 4) throw new Error(`rmsNormBackward: weight holds fewer than ${l.length} f32 values`);
  if (args.dY === args.x || args.dX === args.x) throw new Error('rmsNormBackward: x (the saved input) must be a separate buffer from dY and dX');
  if (args.dX === args.dY) throw new Error('rmsNormBackward: for in-place operation omit `dX` instead of passing dY');
  if (args.accumulate && !args.dX) throw new Error('rmsNormBackward: accumulate needs a separate dX buffer');
  const vectors = l.rows * l.groups;
  const params = ctx.params([vectors]);
  // dW first: an in-place dX would overwrite the dY it reads.
  if (args.weightGrad) {
    const { dWeight, invRmsScratch } = args.weightGrad;
    if (dWeight.size < l.length * 4) throw new Error(`rmsNormBackward: dWeight holds fewer than ${l.length} f32 values`);
    if (invRmsScratch.size < vectors * 4) throw new Error(`rmsNormBackward: invRmsScratch holds fewer than ${vectors} f32 values (rows × groups)`);
    const others = [args.x, args.dY, args.dX, args.weight];
    if (dWeight === invRmsScratch || others.includes(dWeight) || others.includes(invRmsScratch))
      throw new Error('rmsNormBackward: dWeight and invRmsScratch must be their own buffers');
    ctx.dispatch(pass, ctx.pipeline(rmsNormInvRmsWgsl(l, args.eps)), [args.x, invRmsScratch, params], grid(ctx, vectors));
    ctx.dispatch(pass, ctx.pipeline(rmsNormWeightGradWgsl(l)), [args.x, args.dY, invRmsScratch, dWeight, params], grid(ctx, l.length));
  }
  const mode: OutputMode = !args.dX ? 'in-place' : args.accumulate ? 'accumulate' : 'write';
  const bindings = [args.x, args.weight, args.dY, params];
  if (args.dX) bindings.push(args.dX);
  const kernel = args.kernel ?? (ctx.preferBarrierFree ? 'serial' : 'tree');
  const workgroups = kernel === 'serial' ? ceilDiv(vectors, SERIAL_WORKGROUP) : vectors;
  ctx.dispatch(pass, ctx.pipeline(rmsNormBackwardWgsl(l, args.eps, mode, kernel)), bindings, grid(ctx, workgroups));
}

/**
 * CPU reference in f64. Returns dX as a contiguous [rows, groups, length] array (what the grad view
 * receives, before any accumulation) and dW [length]. `x` is read through the layout's x view and
 * `dY` through its grad view.
 */
export function rmsNormBackwardCpu(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dY: ArrayLike<number>,
  layout: RmsNormLayout & { grad?: GradView },
  eps: number,
): { dX: Float64Array; dWeight: Float64Array } {
  const l = resolveRmsNormBackwardLayout(layout);
  if (x.length < viewExtent(l, l)) throw new Error(`rmsNormBackwardCpu: x holds ${x.length} values but the view reaches ${viewExtent(l, l)}`);
  if (dY.length < viewExtent(l, l.grad)) throw new Error(`rmsNormBackwardCpu: dY holds ${dY.length} values but the grad view reaches ${viewExtent(l, l.grad)}`);
  if (weight.length < l.length) throw new Error(`rmsNormBackwardCpu: weight holds ${weight.length} values, fewer than length ${l.length}`);
  const n = l.length;
  const dX = new Float64Array(l.rows * l.groups * n);
  const dWeight = new Float64Array(n);
  for (let r = 0; r < l.rows; r++) {
    for (let g = 0; g < l.groups; g++) {
      const s = l.offset + r * l.rowStride + g * l.groupStride;
      const gs = l.grad.offset + r * l.grad.rowStride + g * l.grad.groupStride;
      let sq = 0;
      let dotXwDy = 0;
      for (let i = 0; i < n; i++) {
        sq += x[s + i] * x[s + i];
        dotXwDy += x[s + i] * weight[i] * dY[gs + i];
      }
      const inv = 1 / Math.sqrt(sq / n + eps);
      const coef = inv * inv * inv * (dotXwDy / n);
      const dst = (r * l.groups + g) * n;
      for (let i = 0; i < n; i++) {
        dX[dst + i] = inv * weight[i] * dY[gs + i] - x[s + i] * coef;
        dWeight[i] += dY[gs + i] * x[s + i] * inv;
      }
    }
  }
  return { dX, dWeight };
}
