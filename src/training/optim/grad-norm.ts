// Global gradient norm over many tensors, on the GPU, with a non-finite flag.
//
// Two-stage reduction so nothing is read back between the norm and the optimizer update:
//   1. one dispatch per gradient tensor: each workgroup sums g² over its 1024 elements and ORs
//      the non-finite flags, writing one {sumSq, flags} partial into a shared partials buffer;
//   2. one single-workgroup dispatch reduces all partials and writes a 16-byte result
//      {sumSq, norm, scale, flags} that the AdamW kernel reads.
//
// WGSL has no isnan/isinf and implementations may assume NaN/Inf never occur in arithmetic, so
// non-finite values are detected on bit patterns (exponent all ones) and kept out of the sum.
import { ceilDiv, f32Bits, type GpuContext } from '../../engine/gpu/context';

const WORKGROUP = 256;
const ELEMENTS_PER_THREAD = 4;
/** Gradient elements reduced by one stage-1 workgroup. */
export const ELEMENTS_PER_PARTIAL = WORKGROUP * ELEMENTS_PER_THREAD;

/** Bits of the result's `flags` word. */
export const NON_FINITE = { nan: 1, inf: 2, overflow: 4 } as const;

/** PyTorch's clip_grad_norm_ adds this to the norm before dividing: scale = maxNorm / (norm + 1e-6). */
export const CLIP_EPSILON = 1e-6;

/** Byte size of the result buffer: sumSq f32, norm f32, scale f32, flags u32. */
export const GRAD_NORM_RESULT_BYTES = 16;

export const GRAD_NORM_RESULT_WGSL = /* wgsl */ `
struct GradNormResult { sumSq: f32, norm: f32, scale: f32, flags: u32 }`;

const NON_FINITE_WGSL = /* wgsl */ `
fn nonFiniteFlags(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7f800000u) != 0x7f800000u) { return 0u; }
  if ((bits & 0x007fffffu) != 0u) { return ${NON_FINITE.nan}u; }
  return ${NON_FINITE.inf}u;
}`;

export function gradNormPartialsWgsl(): string {
  return /* wgsl */ `
struct Params { length: u32, partialOffset: u32, partialCount: u32 }
struct Partial { sumSq: f32, flags: u32 }
@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<Partial>;
@group(0) @binding(2) var<uniform> params: Params;
var<workgroup> sums: array<f32, ${WORKGROUP}>;
var<workgroup> flags: array<u32, ${WORKGROUP}>;
${NON_FINITE_WGSL}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wg.x + wg.y * groups.x;
  if (group >= params.partialCount) { return; }
  let base = group * ${ELEMENTS_PER_PARTIAL}u;
  var sum = 0.0;
  var flag = 0u;
  for (var k = 0u; k < ${ELEMENTS_PER_THREAD}u; k++) {
    let i = base + k * ${WORKGROUP}u + lid;
    if (i < params.length) {
      let g = grad[i];
      let bad = nonFiniteFlags(g);
      flag |= bad;
      sum += select(g * g, 0.0, bad != 0u);
    }
  }
  sums[lid] = sum;
  flags[lid] = flag;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      sums[lid] += sums[lid + stride];
      flags[lid] |= flags[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[params.partialOffset + group] = Partial(sums[0], flags[0]); }
}`;
}

export function gradNormFinalWgsl(): string {
  return /* wgsl */ `
struct Params { partialCount: u32, clip: u32, maxNorm: f32 }
struct Partial { sumSq: f32, flags: u32 }
${GRAD_NORM_RESULT_WGSL}
@group(0) @binding(0) var<storage, read> partials: array<Partial>;
@group(0) @binding(1) var<storage, read_write> result: GradNormResult;
@group(0) @binding(2) var<uniform> params: Params;
var<workgroup> sums: array<f32, ${WORKGROUP}>;
var<workgroup> flags: array<u32, ${WORKGROUP}>;
${NON_FINITE_WGSL}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  var flag = 0u;
  for (var i = lid; i < params.partialCount; i += ${WORKGROUP}u) {
    sum += partials[i].sumSq;
    flag |= partials[i].flags;
  }
  sums[lid] = sum;
  flags[lid] = flag;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      sums[lid] += sums[lid + stride];
      flags[lid] |= flags[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let sumSq = sums[0];
    // Finite gradients whose squares overflow f32: the norm is meaningless, so the step is skipped.
    let overflow = select(0u, ${NON_FINITE.overflow}u, nonFiniteFlags(sumSq) != 0u);
    let total = flags[0] | overflow;
    var norm = 0.0;
    var scale = 1.0;
    if (total == 0u) {
      norm = sqrt(sumSq);
      if (params.clip != 0u) { scale = min(1.0, params.maxNorm / (norm + ${CLIP_EPSILON})); }
    }
    result = GradNormResult(sumSq, norm, scale, total);
  }
}`;
}

export interface GradTensor {
  grad: GPUBuffer;
  length: number;
}

/** Where each tensor's partial sums go in the shared partials buffer. */
export interface GradNormLayout {
  offsets: number[];
  counts: number[];
  totalPartials: number;
}

export function gradNormLayout(lengths: number[]): GradNormLayout {
  const counts = lengths.map((n) => ceilDiv(n, ELEMENTS_PER_PARTIAL));
  const offsets: number[] = [];
  let total = 0;
  for (const count of counts) {
    offsets.push(total);
    total += count;
  }
  return { offsets, counts, totalPartials: total };
}

/** Bytes of the partials buffer for these tensor lengths (8 bytes per partial). */
export function gradNormPartialsBytes(lengths: number[]): number {
  return gradNormLayout(lengths).totalPartials * 8;
}

export interface GradNormArgs {
  tensors: GradTensor[];
  /** Scratch of at least gradNormPartialsBytes(lengths) bytes. */
  partials: GPUBuffer;
  /** GRAD_NORM_RESULT_BYTES bytes: {sumSq, norm, scale, flags}. */
  result: GPUBuffer;
  /** Clip threshold; undefined disables clipping (scale stays 1). */
  maxNorm?: number;
}

/** Records both reduction stages into `pass`; `result` is ready for later dispatches in the same pass. */
export function encodeGradNorm(ctx: GpuContext, pass: GPUComputePassEncoder, args: GradNormArgs) {
  if (args.tensors.length === 0) throw new Error('gradNorm: no gradient tensors');
  args.tensors.forEach((t, i) => {
    if (!Number.isInteger(t.length) || t.length < 1) throw new Error(`gradNorm: tensor ${i} has invalid length ${t.length}`);
    if (t.grad.size < t.length * 4) throw new Error(`gradNorm: gradient buffer ${i} holds fewer than ${t.length} f32 values`);
  });
  const layout = gradNormLayout(args.tensors.map((t) => t.length));
  if (args.partials.size < layout.totalPartials * 8)
    throw new Error(`gradNorm: partials buffer needs ${layout.totalPartials * 8} bytes, has ${args.partials.size}`);
  if (args.result.size < GRAD_NORM_RESULT_BYTES) throw new Error(`gradNorm: result buffer needs ${GRAD_NORM_RESULT_BYTES} bytes`);
  const clip = args.maxNorm !== undefined;
  if (clip && !(Number.isFinite(args.maxNorm) && (args.maxNorm as number) > 0))
    throw new Error(`gradNorm: maxNorm must be a positive finite number, got ${args.maxNorm}`);

  const partialsPipeline = ctx.pipeline(gradNormPartialsWgsl());
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  args.tensors.forEach((t, i) => {
    const count = layout.counts[i];
    const x = Math.min(count, limit);
    ctx.dispatch(pass, partialsPipeline, [t.grad, args.partials, ctx.params([t.length, layout.offsets[i], count])], [x, ceilDiv(count, x)]);
  });
  const finalParams = ctx.params([layout.totalPartials, clip ? 1 : 0, f32Bits(clip ? (args.maxNorm as number) : 0)]);
  ctx.dispatch(pass, ctx.pipeline(gradNormFinalWgsl()), [args.partials, args.result, finalParams], [1]);
}

export interface GradNormReport {
  /** sqrt(sum g²); NaN when any gradient is NaN, Infinity when one is ±Inf or the sum overflows. */
  norm: number;
  /** min(1, maxNorm / (norm + 1e-6)), or 1 without clipping. */
  scale: number;
  flags: number;
}

/** Decodes the 16-byte result buffer. */
export function decodeGradNormResult(bytes: ArrayBuffer): GradNormReport {
  const f = new Float32Array(bytes, 0, 4);
  const flags = new Uint32Array(bytes, 0, 4)[3];
  if (flags & NON_FINITE.nan) return { norm: NaN, scale: 1, flags };
  if (flags) return { norm: Infinity, scale: 1, flags };
  return { norm: f[1], scale: f[2], flags };
}

/** CPU reference (float64 sum): the norm and the clip scale, with PyTorch's non-finite results. */
export function gradNormCpu(grads: Float32Array[], maxNorm?: number): { norm: number; scale: number; nonFinite: boolean } {
  let sum = 0;
  let nonFinite = false;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i])) nonFinite = true;
      sum += g[i] * g[i];
    }
  }
  const norm = Math.sqrt(sum);
  if (nonFinite || !Number.isFinite(Math.fround(sum))) return { norm, scale: 1, nonFinite: true };
  const scale = maxNorm === undefined ? 1 : Math.min(1, Math.fround(maxNorm / Math.fround(Math.fround(norm) + CLIP_EPSILON)));
  return { norm, scale, nonFinite: false };
}
