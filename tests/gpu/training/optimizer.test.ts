import { beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { AdamWCpuReference } from '../../../src/training/optim/cpu-reference';
import { AdamW, type AdamWConfig, type AdamWState, type StepReport } from '../../../src/training/optim/optimizer';
import reference from '../../fixtures/adamw-reference.json';
import { getTestDevice } from '../../helpers/gpu';
import { randomArray } from '../../helpers/numeric';

const ODD_LENGTHS = [1, 7, 257, 1000, 4099];
// GPU vs the op-by-op f32 CPU reference: a few ulp apart (sqrt/division rounding, FMA).
const MAX_REL_ERROR = 1e-5;
// The norm is an f32 tree sum on the GPU and a float64 sum on the CPU.
const NORM_REL_ERROR = 1e-6;

let ctx: GpuContext;
beforeAll(async () => {
  ctx = new GpuContext((await getTestDevice()).device);
});

/** max |a - b| / max(|b|, 1% of max|b|): relative error that stays meaningful where values cross zero. */
function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = 0.01 * scale || Number.MIN_VALUE;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

interface Rig {
  opt: AdamW;
  params: GPUBuffer[];
  grads: GPUBuffer[];
  names: string[];
}

function makeRig(initial: Float32Array[], config: AdamWConfig, names = initial.map((_, i) => `layers.${i}.lora_${i % 2 ? 'B' : 'A'}`)): Rig {
  const params = initial.map((p, i) => ctx.upload(`param.${names[i]}`, p, 'lora'));
  const grads = initial.map((p, i) => ctx.createBuffer(`grad.${names[i]}`, p.length * 4, 'lora'));
  const opt = new AdamW(
    ctx,
    names.map((name, i) => ({ name, param: params[i], grad: grads[i], length: initial[i].length })),
    config,
  );
  return { opt, params, grads, names };
}

async function gpuStep(rig: Rig, grads: Float32Array[]): Promise<StepReport> {
  grads.forEach((g, i) => ctx.write(rig.grads[i], g));
  return rig.opt.step();
}

async function readParams(rig: Rig): Promise<Float32Array[]> {
  return Promise.all(rig.params.map(async (b, i) => new Float32Array(await ctx.read(b, rig.opt.tensors[i].length * 4))));
}

function bits(arrays: Float32Array[]): Uint32Array[] {
  return arrays.map((a) => new Uint32Array(a.slice().buffer));
}

async function snapshot(rig: Rig) {
  const state = await rig.opt.exportState();
  return { params: bits(await readParams(rig)), m: bits(rig.names.map((n) => state.m[n])), v: bits(rig.names.map((n) => state.v[n])) };
}

async function expectMatchesCpu(rig: Rig, cpu: AdamWCpuReference, label: string) {
  const params = await readParams(rig);
  const state = await rig.opt.exportState();
  rig.names.forEach((name, i) => {
    expect(maxRelError(params[i], cpu.params[i]), `${label}: param ${name}`).toBeLessThan(MAX_REL_ERROR);
    expect(maxRelError(state.m[name], cpu.m[i]), `${label}: m ${name}`).toBeLessThan(MAX_REL_ERROR);
    expect(maxRelError(state.v[name], cpu.v[i]), `${label}: v ${name}`).toBeLessThan(MAX_REL_ERROR);
  });
}

function expectSameReport(got: StepReport, want: StepReport) {
  expect(got.skipped).toBe(want.skipped);
  expect(got.clipped).toBe(want.clipped);
  expect(got.step).toBe(want.step);
  if (Number.isFinite(want.gradNorm)) expect(Math.abs(got.gradNorm - want.gradNorm) / want.gradNorm).toBeLessThan(NORM_REL_ERROR);
  else expect(got.gradNorm).toBe(want.gradNorm);
}

function randomGrads(seed: number, scale: number) {
  return ODD_LENGTHS.map((n, i) => randomArray(n, seed * 31 + i, scale));
}

describe('AdamW optimizer (GPU) vs CPU reference', () => {
  // Total norm of uniform(±s) grads over 5364 values is about 42·s: maxGradNorm 5 clips the steps
  // with s = 0.5 and 1, not those with s = 0.02 and 0.05.
  const SCALES = [0.5, 0.02, 1, 0.05, 0.5];

  it.each([0.1, 0])('5 steps over odd lengths, clipping on some steps, weight decay %f (max rel. error 1e-5)', async (weightDecay) => {
    const config = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, maxGradNorm: 5 };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 500 + i));
    const rig = makeRig(initial, config);
    const cpu = new AdamWCpuReference(
      initial.map((p) => p.slice()),
      config,
      config.maxGradNorm,
    );
    const clippedSteps: boolean[] = [];
    for (const [k, scale] of SCALES.entries()) {
      const grads = randomGrads(k + 1, scale);
      const got = await gpuStep(rig, grads);
      const want = cpu.step(grads);
      expectSameReport(got, want);
      clippedSteps.push(got.clipped);
      await expectMatchesCpu(rig, cpu, `step ${k + 1}`);
    }
    expect(clippedSteps).toEqual([true, false, true, false, true]);
    rig.opt.destroy();
  });

  it.each([
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('a %s gradient skips the step bit-identically, and the next step is a normal step', async (_label, bad) => {
    const config = { lr: 0.01, weightDecay: 0.1, maxGradNorm: 5 };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 600 + i));
    const rig = makeRig(initial, config);
    const cpu = new AdamWCpuReference(
      initial.map((p) => p.slice()),
      { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
      5,
    );
    expectSameReport(await gpuStep(rig, randomGrads(1, 0.5)), cpu.step(randomGrads(1, 0.5)));
    const before = await snapshot(rig);

    const poisoned = randomGrads(2, 0.5);
    poisoned[2][100] = bad;
    const report = await gpuStep(rig, poisoned);
    expect(report).toEqual({ gradNorm: Number.isNaN(bad) ? NaN : Infinity, skipped: true, clipped: false, step: 1 });
    expect(cpu.step(poisoned).skipped).toBe(true);
    expect(await snapshot(rig)).toEqual(before);

    // Step 2 now uses t = 2 with the state of step 1, exactly as if the bad step never happened.
    const next = randomGrads(3, 0.05);
    expectSameReport(await gpuStep(rig, next), cpu.step(next));
    expect(rig.opt.stepCount).toBe(2);
    await expectMatchesCpu(rig, cpu, 'step after the skipped one');
    rig.opt.destroy();
  });

  it('a NaN on the very first step leaves t at 0, so the next step is a first step', async () => {
    const config = { lr: 0.02, weightDecay: 0.05 };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 700 + i));
    const rig = makeRig(initial, config);
    const poisoned = randomGrads(4, 0.1);
    poisoned[0][0] = NaN;
    expect((await gpuStep(rig, poisoned)).skipped).toBe(true);
    const cpu = new AdamWCpuReference(
      initial.map((p) => p.slice()),
      { lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 },
    );
    const grads = randomGrads(5, 0.1);
    expectSameReport(await gpuStep(rig, grads), cpu.step(grads));
    await expectMatchesCpu(rig, cpu, 'first real step');
    rig.opt.destroy();
  });
});

interface ReferenceCase {
  name: string;
  config: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maxGradNorm: number | null };
  tensors: { name: string; shape: number[]; initial: number[] }[];
  steps: { grads: Record<string, number[]>; gradNorm: number; clipped: boolean; params: Record<string, number[]> }[];
  final: { step: number; m: Record<string, number[]>; v: Record<string, number[]> };
}

describe('AdamW optimizer vs torch.optim.AdamW + clip_grad_norm_ (tests/fixtures/adamw-reference.json)', () => {
  const cases = reference.cases as ReferenceCase[];
  it('has the expected cases', () => {
    expect(cases.map((c) => c.name)).toEqual(['clipped-with-weight-decay', 'unclipped-no-weight-decay-custom-betas', 'no-clipping-default-decay']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: 3 steps match PyTorch (max rel. error 1e-5)', async (_name, c) => {
    const names = c.tensors.map((t) => t.name);
    const rig = makeRig(
      c.tensors.map((t) => new Float32Array(t.initial)),
      c.config,
      names,
    );
    for (const [k, s] of c.steps.entries()) {
      const report = await gpuStep(
        rig,
        names.map((n) => new Float32Array(s.grads[n])),
      );
      expect(report.skipped).toBe(false);
      expect(report.clipped).toBe(s.clipped);
      expect(report.step).toBe(k + 1);
      expect(Math.abs(report.gradNorm - s.gradNorm) / s.gradNorm).toBeLessThan(1e-6);
      const params = await readParams(rig);
      names.forEach((n, i) => expect(maxRelError(params[i], s.params[n]), `step ${k + 1} ${n}`).toBeLessThan(MAX_REL_ERROR));
    }
    const state = await rig.opt.exportState();
    expect(state.step).toBe(c.final.step);
    for (const n of names) {
      expect(maxRelError(state.m[n], c.final.m[n]), `m ${n}`).toBeLessThan(MAX_REL_ERROR);
      expect(maxRelError(state.v[n], c.final.v[n]), `v ${n}`).toBeLessThan(MAX_REL_ERROR);
    }
    rig.opt.destroy();
  });
});

describe('AdamW optimizer state, zeroGrad and validation', () => {
  it('exportState/importState resume training exactly', async () => {
    const config = { lr: 0.01, weightDecay: 0.1, maxGradNorm: 5 };
    const initial = ODD_LENGTHS.map((n, i) => randomArray(n, 800 + i));
    const a = makeRig(initial, config);
    await gpuStep(a, randomGrads(6, 0.5));
    await gpuStep(a, randomGrads(7, 0.5));
    const state = await a.opt.exportState();
    expect(state.step).toBe(2);
    const b = makeRig(await readParams(a), config);
    b.opt.importState(state);
    expect(b.opt.stepCount).toBe(2);
    const grads = randomGrads(8, 0.5);
    expect(await gpuStep(b, grads)).toEqual(await gpuStep(a, grads));
    expect(await snapshot(b)).toEqual(await snapshot(a));
    a.opt.destroy();
    b.opt.destroy();
  });

  it('importState rejects mismatched or corrupt state, naming the tensor', () => {
    const rig = makeRig([randomArray(7, 1), randomArray(3, 2)], { lr: 0.01 });
    const good = (): AdamWState => ({
      step: 1,
      m: { [rig.names[0]]: new Float32Array(7), [rig.names[1]]: new Float32Array(3) },
      v: { [rig.names[0]]: new Float32Array(7), [rig.names[1]]: new Float32Array(3) },
    });
    const broken = (edit: (s: AdamWState) => void) => {
      const s = good();
      edit(s);
      return () => rig.opt.importState(s);
    };
    expect(broken(() => {})).not.toThrow();
    expect(broken((s) => (s.step = -1))).toThrow(/step must be a non-negative integer/);
    expect(broken((s) => delete s.m[rig.names[1]])).toThrow(/m\["layers.1.lora_B"\] is missing/);
    expect(broken((s) => (s.v[rig.names[0]] = new Float32Array(6)))).toThrow(/v\["layers.0.lora_A"\] has 6 values, expected 7/);
    expect(broken((s) => (s.m.extra = new Float32Array(1)))).toThrow(/unknown tensor "extra"/);
    expect(broken((s) => (s.m[rig.names[0]][2] = NaN))).toThrow(/m\["layers.0.lora_A"\]\[2\] is NaN/);
    expect(broken((s) => (s.v[rig.names[1]][0] = -1))).toThrow(/non-negative/);
    rig.opt.destroy();
  });

  it('zeroGrad clears every gradient buffer', async () => {
    const rig = makeRig(
      ODD_LENGTHS.map((n, i) => randomArray(n, 900 + i)),
      { lr: 0.01 },
    );
    randomGrads(9, 1).forEach((g, i) => ctx.write(rig.grads[i], g));
    rig.opt.zeroGrad();
    for (const [i, g] of rig.grads.entries()) {
      const values = new Float32Array(await ctx.read(g, ODD_LENGTHS[i] * 4));
      expect(values.every((x) => x === 0)).toBe(true);
    }
    rig.opt.destroy();
  });

  it('accounts m, v and scratch under "optimizer" and reports memoryBytes', () => {
    const before = ctx.memoryReport().optimizer;
    const rig = makeRig(
      ODD_LENGTHS.map((n) => new Float32Array(n)),
      { lr: 0.01 },
    );
    const stateBytes = 2 * 4 * ODD_LENGTHS.reduce((a, n) => a + n, 0);
    const tracked = ctx.memoryReport().optimizer - before;
    expect(tracked).toBeGreaterThanOrEqual(stateBytes);
    expect(rig.opt.memoryBytes).toBe(tracked + 32 + 16); // plus the step uniform and readback staging
    rig.opt.destroy();
    expect(ctx.memoryReport().optimizer).toBe(before);
  });

  it('refuses to encode a second step before the first is resolved', async () => {
    const rig = makeRig([randomArray(5, 3)], { lr: 0.01 });
    const encoder = ctx.device.createCommandEncoder();
    rig.opt.encodeStep(encoder);
    expect(() => rig.opt.encodeStep(ctx.device.createCommandEncoder())).toThrow(/not resolved/);
    ctx.device.queue.submit([encoder.finish()]);
    expect((await rig.opt.resolveStep()).step).toBe(1);
    await expect(rig.opt.resolveStep()).rejects.toThrow(/without an encoded step/);
    rig.opt.destroy();
  });

  it('rejects bad configuration and parameters with messages that name the field', () => {
    const p = ctx.createBuffer('p', 16, 'lora');
    const g = ctx.createBuffer('g', 16, 'lora');
    const one = [{ name: 'a', param: p, grad: g, length: 4 }];
    expect(() => new AdamW(ctx, one, { lr: -1 })).toThrow(/lr must be/);
    expect(() => new AdamW(ctx, one, { lr: NaN })).toThrow(/lr must be/);
    expect(() => new AdamW(ctx, one, { lr: 0.1, beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => new AdamW(ctx, one, { lr: 0.1, beta2: -0.5 })).toThrow(/beta2/);
    expect(() => new AdamW(ctx, one, { lr: 0.1, eps: 0 })).toThrow(/eps must be/);
    expect(() => new AdamW(ctx, one, { lr: 0.1, weightDecay: -0.1 })).toThrow(/weightDecay/);
    expect(() => new AdamW(ctx, one, { lr: 0.1, maxGradNorm: 0 })).toThrow(/maxGradNorm/);
    expect(() => new AdamW(ctx, [], { lr: 0.1 })).toThrow(/no parameters/);
    expect(() => new AdamW(ctx, [...one, ...one], { lr: 0.1 })).toThrow(/duplicate parameter name "a"/);
    expect(() => new AdamW(ctx, [{ ...one[0], length: 5 }], { lr: 0.1 })).toThrow(/"a" buffer holds fewer than 5/);
    expect(() => new AdamW(ctx, [{ ...one[0], length: 2.5 }], { lr: 0.1 })).toThrow(/"a" has invalid length 2.5/);
    const readOnlyGrad = ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    expect(() => new AdamW(ctx, [{ ...one[0], grad: readOnlyGrad }], { lr: 0.1 })).toThrow(/lacks COPY_DST/);
  });
});
