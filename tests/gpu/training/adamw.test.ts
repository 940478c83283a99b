import { describe, expect, it } from 'vitest';
import { f32Bits, GpuContext } from '../../../src/engine/gpu/context';
import {
  adamWCpu,
  adamWStepScalars,
  adamWStepWords,
  ADAMW_STEP_UNIFORM_BYTES,
  encodeAdamW,
  type AdamWHyperparameters,
} from '../../../src/training/optim/adamw';
import { GRAD_NORM_RESULT_BYTES, NON_FINITE } from '../../../src/training/optim/grad-norm';
import { getTestDevice } from '../../helpers/gpu';
import { randomArray } from '../../helpers/numeric';

const ODD_LENGTHS = [1, 7, 257, 1000, 4099];
// The kernel and the op-by-op f32 CPU reference differ only by sqrt/division rounding (and
// possible FMA contraction on the GPU): a few ulp, far below this bound.
const MAX_REL_ERROR = 1e-5;

/**
 * max |a - b| / max(|b|, 1% of max|b|): relative error that does not explode where a value
 * crosses zero (m = m + 0.1 (g - m) cancels; FMA contraction then changes the last bits).
 */
function maxRelError(actual: Float32Array, expected: Float32Array): number {
  const floor = 0.01 * expected.reduce((a, x) => Math.max(a, Math.abs(x)), 0) || Number.MIN_VALUE;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

interface KernelRig {
  ctx: GpuContext;
  params: GPUBuffer[];
  grads: GPUBuffer[];
  m: GPUBuffer[];
  v: GPUBuffer[];
  gradNorm: GPUBuffer;
  step: GPUBuffer;
}

async function makeRig(initial: Float32Array[]): Promise<KernelRig> {
  const ctx = new GpuContext((await getTestDevice()).device);
  return {
    ctx,
    params: initial.map((p, i) => ctx.upload(`p${i}`, p, 'lora')),
    grads: initial.map((p, i) => ctx.createBuffer(`g${i}`, p.length * 4, 'lora')),
    m: initial.map((p, i) => ctx.createBuffer(`m${i}`, p.length * 4, 'optimizer')),
    v: initial.map((p, i) => ctx.createBuffer(`v${i}`, p.length * 4, 'optimizer')),
    gradNorm: ctx.createBuffer('gradNorm', GRAD_NORM_RESULT_BYTES, 'scratch'),
    step: ctx.device.createBuffer({ size: ADAMW_STEP_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
  };
}

/** One kernel step with a hand-written grad-norm result (scale, flags). */
async function runKernel(rig: KernelRig, grads: Float32Array[], hyper: AdamWHyperparameters, t: number, scale: number, flags = 0) {
  const { ctx } = rig;
  grads.forEach((g, i) => ctx.write(rig.grads[i], g));
  ctx.write(rig.gradNorm, new Uint32Array([f32Bits(1), f32Bits(1), f32Bits(scale), flags]));
  ctx.write(rig.step, adamWStepWords(adamWStepScalars(hyper, t)));
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  grads.forEach((g, i) =>
    encodeAdamW(ctx, pass, { param: rig.params[i], grad: rig.grads[i], m: rig.m[i], v: rig.v[i], length: g.length, gradNorm: rig.gradNorm, step: rig.step }),
  );
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
}

async function readAll(ctx: GpuContext, buffers: GPUBuffer[], lengths: number[]) {
  return Promise.all(buffers.map(async (b, i) => new Float32Array(await ctx.read(b, lengths[i] * 4))));
}

describe('AdamW kernel', () => {
  it.each([
    ['with weight decay', 0.1],
    ['without weight decay', 0],
  ])('matches the CPU reference over 4 steps on odd lengths %s (max rel. error 1e-5)', async (_label, weightDecay) => {
    const hyper: AdamWHyperparameters = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 100 + i));
    const rig = await makeRig(initial);
    const cpuP = initial.map((p) => p.slice());
    const cpuM = initial.map((p) => new Float32Array(p.length));
    const cpuV = initial.map((p) => new Float32Array(p.length));
    const scales = [1, 0.37, 1, 0.05];
    for (let t = 1; t <= scales.length; t++) {
      const grads = ODD_LENGTHS.map((n, i) => randomArray(n, 1000 * t + i, 0.3));
      await runKernel(rig, grads, hyper, t, scales[t - 1]);
      const s = adamWStepScalars(hyper, t);
      cpuP.forEach((p, i) => adamWCpu(p, grads[i], cpuM[i], cpuV[i], s, scales[t - 1]));
      const [p, m, v] = await Promise.all([rig.params, rig.m, rig.v].map((bufs) => readAll(rig.ctx, bufs, ODD_LENGTHS)));
      for (let i = 0; i < ODD_LENGTHS.length; i++) {
        expect(maxRelError(p[i], cpuP[i]), `param ${i} step ${t}`).toBeLessThan(MAX_REL_ERROR);
        expect(maxRelError(m[i], cpuM[i]), `m ${i} step ${t}`).toBeLessThan(MAX_REL_ERROR);
        expect(maxRelError(v[i], cpuV[i]), `v ${i} step ${t}`).toBeLessThan(MAX_REL_ERROR);
      }
    }
    // The update really moved the parameters (a kernel that wrote nothing would fail above, too).
    expect(maxRelError(cpuP[4], initial[4])).toBeGreaterThan(1e-3);
  });

  it('weight decay alone shrinks parameters by (1 - lr*wd) when the gradient is zero', async () => {
    const hyper: AdamWHyperparameters = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 };
    const initial = [randomArray(257, 7)];
    const rig = await makeRig(initial);
    await runKernel(rig, [new Float32Array(257)], hyper, 1, 1);
    const [p] = await readAll(rig.ctx, rig.params, [257]);
    const expected = initial[0].map((x) => Math.fround(x * Math.fround(1 - 0.05)));
    expect(maxRelError(p, expected)).toBeLessThan(1e-7);
  });

  it('leaves parameters, m and v bit-identical when the non-finite flag is set', async () => {
    const hyper: AdamWHyperparameters = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 200 + i));
    const rig = await makeRig(initial);
    await runKernel(
      rig,
      ODD_LENGTHS.map((n, i) => randomArray(n, 300 + i)),
      hyper,
      1,
      1,
    );
    const before = await Promise.all([rig.params, rig.m, rig.v].map((bufs) => readAll(rig.ctx, bufs, ODD_LENGTHS)));
    await runKernel(
      rig,
      ODD_LENGTHS.map((n, i) => randomArray(n, 400 + i)),
      hyper,
      2,
      1,
      NON_FINITE.nan,
    );
    const after = await Promise.all([rig.params, rig.m, rig.v].map((bufs) => readAll(rig.ctx, bufs, ODD_LENGTHS)));
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < ODD_LENGTHS.length; i++) {
        expect(new Uint32Array(after[k][i].buffer)).toEqual(new Uint32Array(before[k][i].buffer));
      }
    }
  });

  it('computes bias corrections in float64 for step t and rejects t < 1', () => {
    const s = adamWStepScalars({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, 3);
    expect(s.stepSize).toBe(Math.fround(1e-3 / (1 - 0.9 ** 3)));
    expect(s.bc2Sqrt).toBe(Math.fround(Math.sqrt(1 - 0.999 ** 3)));
    expect(s.decay).toBe(1);
    expect(() => adamWStepScalars({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, 0)).toThrow(/step must be a positive integer/);
  });

  it('rejects buffers shorter than the length', async () => {
    const rig = await makeRig([new Float32Array(4)]);
    const encoder = rig.ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() =>
      encodeAdamW(rig.ctx, pass, { param: rig.params[0], grad: rig.grads[0], m: rig.m[0], v: rig.v[0], length: 5, gradNorm: rig.gradNorm, step: rig.step }),
    ).toThrow(/param buffer holds fewer than 5/);
    pass.end();
  });
});
