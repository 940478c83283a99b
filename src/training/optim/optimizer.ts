// AdamW optimizer over a set of LoRA tensors on the GPU: global-norm clipping, NaN/Inf guard and
// the AdamW update in one command buffer, with one 16-byte readback per step for the trainer.
//
// Step protocol: encodeStep(encoder) records the grad-norm reduction, the updates and a copy of
// the norm result into a staging buffer; after the caller submits, resolveStep() reads that one
// buffer and advances the step counter only when the step was not skipped. step() does all three.
// The step number t used for bias correction is fixed at encode time (t = completed + 1); a
// skipped step writes nothing, so the next step encodes the same t again.
import type { GpuContext } from '../../engine/gpu/context';
import { adamWStepScalars, adamWStepWords, encodeAdamW, type AdamWHyperparameters } from './adamw';
import { decodeGradNormResult, encodeGradNorm, GRAD_NORM_RESULT_BYTES } from './grad-norm';
import { planTotal, plannedBuffers } from '../../engine/model/buffer-plan';
import { createPlanned } from '../../engine/gpu/planned';
import { planAdamW } from '../model/train-plan';

// Numeric WebGPU flag values (fixed by the spec), so importing this module needs no globals.
const USAGE = { MAP_READ: 0x01, COPY_DST: 0x08, UNIFORM: 0x40 } as const;
const MAP_MODE_READ = 0x01;

export interface AdamWConfig {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay; default 0.01 like torch.optim.AdamW. */
  weightDecay?: number;
  /** Global-norm clip threshold (clip_grad_norm_ semantics); undefined or null: no clipping. */
  maxGradNorm?: number | null;
}

export interface OptimizedTensor {
  /** Unique name, used as the key of exported state (e.g. the PEFT tensor name). */
  name: string;
  param: GPUBuffer;
  grad: GPUBuffer;
  /** Number of f32 values. */
  length: number;
}

export interface StepReport {
  /** Global gradient norm before clipping; NaN if a gradient had a NaN, Infinity for ±Inf or overflow. */
  gradNorm: number;
  /** True when a non-finite gradient (or norm) made the kernels leave every tensor untouched. */
  skipped: boolean;
  /** True when the gradients were scaled down (norm above maxGradNorm). */
  clipped: boolean;
  /** Completed optimizer steps after this one (unchanged when skipped). */
  step: number;
}

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

function requireNumber(field: string, value: number, ok: (x: number) => boolean, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw new Error(`AdamW config: ${field} must be ${rule}, got ${String(value)}`);
  return value;
}

export function resolveAdamWConfig(config: AdamWConfig): AdamWHyperparameters & { maxGradNorm?: number } {
  const lr = requireNumber('lr', config.lr, (x) => x >= 0, 'a finite number >= 0');
  const beta1 = requireNumber('beta1', config.beta1 ?? 0.9, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const beta2 = requireNumber('beta2', config.beta2 ?? 0.999, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const eps = requireNumber('eps', config.eps ?? 1e-8, (x) => x > 0, 'a finite number > 0');
  const weightDecay = requireNumber('weightDecay', config.weightDecay ?? 0.01, (x) => x >= 0, 'a finite number >= 0');
  const maxGradNorm = config.maxGradNorm == null ? undefined : requireNumber('maxGradNorm', config.maxGradNorm, (x) => x > 0, 'a finite number > 0');
  return { lr, beta1, beta2, eps, weightDecay, maxGradNorm };
}

function validateTensors(params: OptimizedTensor[]) {
  if (params.length === 0) throw new Error('AdamW: no parameters to optimize');
  const seen = new Set<string>();
  for (const p of params) {
    if (typeof p.name !== 'string' || p.name === '') throw new Error('AdamW: every parameter needs a non-empty name');
    if (seen.has(p.name)) throw new Error(`AdamW: duplicate parameter name "${p.name}"`);
    seen.add(p.name);
    if (!Number.isInteger(p.length) || p.length < 1) throw new Error(`AdamW: parameter "${p.name}" has invalid length ${p.length}`);
    if (p.param.size < p.length * 4) throw new Error(`AdamW: parameter "${p.name}" buffer holds fewer than ${p.length} f32 values`);
    if (p.grad.size < p.length * 4) throw new Error(`AdamW: gradient of "${p.name}" holds fewer than ${p.length} f32 values`);
    // clearBuffer (zeroGrad) needs COPY_DST.
    if (typeof p.grad.usage === 'number' && (p.grad.usage & USAGE.COPY_DST) === 0)
      throw new Error(`AdamW: gradient buffer of "${p.name}" lacks COPY_DST usage (needed to zero it)`);
  }
}

export class AdamW {
  readonly tensors: readonly OptimizedTensor[];
  /** Bytes of GPU memory this optimizer allocated (m, v, reduction scratch, result, uniform, staging). */
  readonly memoryBytes: number;
  private hyper: AdamWHyperparameters;
  private readonly maxGradNorm: number | undefined;
  private readonly m: GPUBuffer[];
  private readonly v: GPUBuffer[];
  private readonly partials: GPUBuffer;
  private readonly result: GPUBuffer;
  private readonly stepUniform: GPUBuffer;
  private readonly staging: GPUBuffer;
  private completed = 0;
  private pending = false;

  constructor(
    private readonly ctx: GpuContext,
    params: OptimizedTensor[],
    config: AdamWConfig,
  ) {
    validateTensors(params);
    const { maxGradNorm, ...hyper } = resolveAdamWConfig(config);
    this.hyper = hyper;
    this.maxGradNorm = maxGradNorm;
    this.tensors = params.map((p) => ({ ...p }));
    // createBuffer returns zero-initialized memory (WebGPU guarantees it), which is Adam's m0, v0.
    // Sizes from the training size table (train-plan.ts), each planned buffer made here by name.
    const plan = planAdamW(params);
    const planned = plannedBuffers(plan, 'AdamW');
    const take = (name: string) => createPlanned(ctx, planned.take(name));
    this.m = params.map((p) => take(`adamw.m.${p.name}`));
    this.v = params.map((p) => take(`adamw.v.${p.name}`));
    this.partials = take('adamw.gradNormPartials');
    this.result = take('adamw.gradNorm');
    this.stepUniform = take('adamw.step');
    this.staging = take('adamw.readback');
    planned.done();
    this.memoryBytes = planTotal(plan);
  }

  /** Completed (not skipped) optimizer steps. */
  get stepCount(): number {
    return this.completed;
  }

  get hyperparameters(): Readonly<AdamWHyperparameters & { maxGradNorm?: number }> {
    return { ...this.hyper, maxGradNorm: this.maxGradNorm };
  }

  /** For learning-rate schedules; takes effect from the next encodeStep. */
  setLearningRate(lr: number) {
    this.hyper = { ...this.hyper, lr: requireNumber('lr', lr, (x) => x >= 0, 'a finite number >= 0') };
  }

  /** Records norm, clip, guard and update for step t = stepCount + 1; call resolveStep() after submitting. */
  encodeStep(encoder: GPUCommandEncoder) {
    if (this.pending) throw new Error('AdamW: the previous step was encoded but not resolved; call resolveStep() first');
    // Written now, so it lands before the caller's submit of this encoder.
    this.ctx.write(this.stepUniform, adamWStepWords(adamWStepScalars(this.hyper, this.completed + 1)));
    const pass = encoder.beginComputePass({ label: 'adamw.step' });
    encodeGradNorm(this.ctx, pass, {
      tensors: this.tensors.map((t) => ({ grad: t.grad, length: t.length })),
      partials: this.partials,
      result: this.result,
      maxNorm: this.maxGradNorm,
    });
    this.tensors.forEach((t, i) => {
      encodeAdamW(this.ctx, pass, {
        param: t.param,
        grad: t.grad,
        m: this.m[i],
        v: this.v[i],
        length: t.length,
        gradNorm: this.result,
        step: this.stepUniform,
      });
    });
    pass.end();
    encoder.copyBufferToBuffer(this.result, 0, this.staging, 0, GRAD_NORM_RESULT_BYTES);
    this.pending = true;
  }

  /** Reads the step's 16-byte result (after the encoder from encodeStep was submitted). */
  async resolveStep(): Promise<StepReport> {
    if (!this.pending) throw new Error('AdamW: resolveStep() without an encoded step');
    await this.staging.mapAsync(MAP_MODE_READ);
    const bytes = this.staging.getMappedRange().slice(0);
    this.staging.unmap();
    this.pending = false;
    const { norm, scale, flags } = decodeGradNormResult(bytes);
    const skipped = flags !== 0;
    if (!skipped) this.completed++;
    return { gradNorm: norm, skipped, clipped: !skipped && scale < 1, step: this.completed };
  }

  /** One full step in its own command buffer. */
  async step(): Promise<StepReport> {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'adamw.step' });
    this.encodeStep(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
    return this.resolveStep();
  }

  /** Records clearing every gradient buffer (the caller decides when, e.g. after accumulation). */
  encodeZeroGrad(encoder: GPUCommandEncoder) {
    for (const t of this.tensors) encoder.clearBuffer(t.grad, 0, t.length * 4);
  }

  zeroGrad() {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'adamw.zeroGrad' });
    this.encodeZeroGrad(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /** Copies m, v and the step counter to the CPU, for checkpoints (one submit, one readback). */
  async exportState(): Promise<AdamWState> {
    if (this.pending) throw new Error('AdamW: cannot export state while a step is unresolved');
    const buffers = [...this.m, ...this.v];
    const lengths = [...this.tensors, ...this.tensors].map((t) => t.length);
    const offsets: number[] = [];
    let total = 0;
    for (const n of lengths) {
      offsets.push(total);
      total += n * 4;
    }
    const staging = this.ctx.device.createBuffer({ label: 'adamw.exportState', size: total, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const encoder = this.ctx.device.createCommandEncoder({ label: 'adamw.exportState' });
    buffers.forEach((b, i) => encoder.copyBufferToBuffer(b, 0, staging, offsets[i], lengths[i] * 4));
    this.ctx.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    const count = this.tensors.length;
    this.tensors.forEach((t, i) => {
      m[t.name] = all.slice(offsets[i] / 4, offsets[i] / 4 + t.length);
      v[t.name] = all.slice(offsets[count + i] / 4, offsets[count + i] / 4 + t.length);
    });
    return { step: this.completed, m, v };
  }

  /** Restores state from exportState(); names and lengths must match this optimizer's tensors exactly. */
  importState(state: AdamWState) {
    if (this.pending) throw new Error('AdamW: cannot import state while a step is unresolved');
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`AdamW state: step must be a non-negative integer, got ${state.step}`);
    const names = new Set(this.tensors.map((t) => t.name));
    for (const key of ['m', 'v'] as const) {
      const record = state[key];
      if (record === null || typeof record !== 'object') throw new Error(`AdamW state: ${key} is missing`);
      for (const name of Object.keys(record)) {
        if (!names.has(name)) throw new Error(`AdamW state: ${key} has unknown tensor "${name}"`);
      }
      for (const t of this.tensors) {
        const values = record[t.name];
        if (!(values instanceof Float32Array)) throw new Error(`AdamW state: ${key}["${t.name}"] is missing or not a Float32Array`);
        if (values.length !== t.length) throw new Error(`AdamW state: ${key}["${t.name}"] has ${values.length} values, expected ${t.length}`);
        for (let i = 0; i < values.length; i++) {
          const x = values[i];
          if (!Number.isFinite(x) || (key === 'v' && x < 0))
            throw new Error(`AdamW state: ${key}["${t.name}"][${i}] is ${x}, expected a finite${key === 'v' ? ' non-negative' : ''} value`);
        }
      }
    }
    this.tensors.forEach((t, i) => {
      this.ctx.write(this.m[i], state.m[t.name]);
      this.ctx.write(this.v[i], state.v[t.name]);
    });
    this.completed = state.step;
  }

  /** Frees the optimizer's own buffers (not the parameters or gradients). */
  destroy() {
    for (const b of [...this.m, ...this.v, this.partials, this.result]) this.ctx.destroy(b);
    this.stepUniform.destroy();
    this.staging.destroy();
    this.ctx.clearBindGroups();
  }
}
