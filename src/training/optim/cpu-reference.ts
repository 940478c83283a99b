// CPU reference of the whole optimizer step (norm, clip, NaN/Inf guard, AdamW), for tests and for
// checking the GPU path; same step protocol as the GPU AdamW class.
import { adamWCpu, adamWStepScalars, type AdamWHyperparameters } from './adamw';
import { gradNormCpu } from './grad-norm';
import type { StepReport } from './optimizer';

export class AdamWCpuReference {
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  private completed = 0;

  constructor(
    readonly params: Float32Array[],
    private readonly hyper: AdamWHyperparameters,
    private readonly maxGradNorm?: number,
  ) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** Updates `params` in place from `grads`, unless a gradient is non-finite. */
  step(grads: Float32Array[]): StepReport {
    const { norm, scale, nonFinite } = gradNormCpu(grads, this.maxGradNorm);
    if (nonFinite) return { gradNorm: norm, skipped: true, clipped: false, step: this.completed };
    const scalars = adamWStepScalars(this.hyper, this.completed + 1);
    this.params.forEach((p, i) => adamWCpu(p, grads[i], this.m[i], this.v[i], scalars, scale));
    this.completed++;
    return { gradNorm: norm, skipped: false, clipped: scale < 1, step: this.completed };
  }
}
