// AdamW update kernel with PyTorch semantics (torch.optim.AdamW, single-tensor path):
//   g  = grad * clipScale                        (clip_grad_norm_, scale read from the GPU)
//   p  = p * (1 - lr*wd)                         (decoupled weight decay)
//   m  = lerp(m, g, 1 - beta1)
//   v  = v * beta2 + (1 - beta2) * g * g
//   p  = p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc1 = 1 - beta1^t, bc2 = 1 - beta2^t
// The kernel first reads the grad-norm result's non-finite flag and returns without writing when
// it is set, so a NaN/Inf gradient leaves parameters, m and v bit-identical.
// Step-dependent scalars are computed in float64 on the CPU (like PyTorch's Python floats) and
// written into one uniform buffer per optimizer each step, so nothing is allocated per step.
import { ceilDiv, f32Bits, type GpuContext } from '../../engine/gpu/context';
import { GRAD_NORM_RESULT_WGSL } from './grad-norm';

const WORKGROUP = 256;

export interface AdamWHyperparameters {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** The per-step scalars, as the kernel sees them (all f32). */
export interface AdamWStepScalars {
  decay: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  stepSize: number;
  bc2Sqrt: number;
  eps: number;
}

/** Scalars for step `t` (1-based), in float64 as PyTorch computes them, then rounded to f32. */
export function adamWStepScalars(h: AdamWHyperparameters, t: number): AdamWStepScalars {
  if (!Number.isInteger(t) || t < 1) throw new Error(`AdamW: step must be a positive integer, got ${t}`);
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  const f = Math.fround;
  return {
    decay: f(1 - h.lr * h.weightDecay),
    oneMinusBeta1: f(1 - h.beta1),
    beta2: f(h.beta2),
    oneMinusBeta2: f(1 - h.beta2),
    stepSize: f(h.lr / bc1),
    bc2Sqrt: f(Math.sqrt(bc2)),
    eps: f(h.eps),
  };
}

/** Uniform-buffer words for the step scalars, in the order of the WGSL `Step` struct. */
export function adamWStepWords(s: AdamWStepScalars): Uint32Array {
  return new Uint32Array([s.decay, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.stepSize, s.bc2Sqrt, s.eps, 0].map(f32Bits));
}

export const ADAMW_STEP_UNIFORM_BYTES = 32;

export function adamWWgsl(): string {
  return /* wgsl */ `
struct Step { decay: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, stepSize: f32, bc2Sqrt: f32, eps: f32, pad: f32 }
struct Shape { length: u32 }
${GRAD_NORM_RESULT_WGSL}
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> gradNorm: GradNormResult;
@group(0) @binding(5) var<uniform> step: Step;
@group(0) @binding(6) var<uniform> shape: Shape;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  if (gradNorm.flags != 0u) { return; }
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= shape.length) { return; }
  let g = grad[i] * gradNorm.scale;
  let p = param[i] * step.decay;
  let mOld = m[i];
  let mNew = mOld + step.oneMinusBeta1 * (g - mOld);
  let vNew = v[i] * step.beta2 + step.oneMinusBeta2 * g * g;
  m[i] = mNew;
  v[i] = vNew;
  let denom = sqrt(vNew) / step.bc2Sqrt + step.eps;
  param[i] = p + (-step.stepSize * mNew) / denom;
}`;
}

export interface AdamWTensorArgs {
  param: GPUBuffer;
  grad: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  length: number;
  /** The grad-norm result buffer (scale and non-finite flag). */
  gradNorm: GPUBuffer;
  /** ADAMW_STEP_UNIFORM_BYTES uniform buffer holding adamWStepWords for this step. */
  step: GPUBuffer;
}

/** Records the update of one tensor into `pass`. */
export function encodeAdamW(ctx: GpuContext, pass: GPUComputePassEncoder, args: AdamWTensorArgs) {
  const bytes = args.length * 4;
  for (const name of ['param', 'grad', 'm', 'v'] as const) {
    if (args[name].size < bytes) throw new Error(`AdamW: ${name} buffer holds fewer than ${args.length} f32 values`);
  }
  const groups = ceilDiv(args.length, WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(
    pass,
    ctx.pipeline(adamWWgsl()),
    [args.param, args.grad, args.m, args.v, args.gradNorm, args.step, ctx.params([args.length])],
    [x, ceilDiv(groups, x)],
  );
}

/**
 * CPU reference of one tensor's update, in f32 arithmetic op by op (Math.fround), mirroring the
 * kernel. Updates `param`, `m`, `v` in place. `scale` is the clip scale applied to the gradient.
 */
export function adamWCpu(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, s: AdamWStepScalars, scale = 1) {
  const f = Math.fround;
  for (let i = 0; i < param.length; i++) {
    const g = f(grad[i] * scale);
    const p = f(param[i] * s.decay);
    const mNew = f(m[i] + f(s.oneMinusBeta1 * f(g - m[i])));
    const vNew = f(f(v[i] * s.beta2) + f(f(s.oneMinusBeta2 * g) * g));
    m[i] = mNew;
    v[i] = vNew;
    const denom = f(f(f(Math.sqrt(vNew)) / s.bc2Sqrt) + s.eps);
    param[i] = f(p + f(f(-s.stepSize * mNew) / denom));
  }
}
