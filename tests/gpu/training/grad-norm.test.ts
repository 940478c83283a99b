import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import {
  decodeGradNormResult,
  encodeGradNorm,
  GRAD_NORM_RESULT_BYTES,
  gradNormCpu,
  gradNormPartialsBytes,
  NON_FINITE,
} from '../../../src/training/optim/grad-norm';
import { getTestDevice } from '../../helpers/gpu';
import { randomArray } from '../../helpers/numeric';

const ODD_LENGTHS = [1, 7, 257, 1000, 4099];

async function gpuGradNorm(grads: Float32Array[], maxNorm?: number) {
  const ctx = new GpuContext((await getTestDevice()).device);
  const tensors = grads.map((g, i) => ({ grad: ctx.upload(`g${i}`, g, 'lora'), length: g.length }));
  const partials = ctx.createBuffer('partials', gradNormPartialsBytes(grads.map((g) => g.length)), 'scratch');
  const result = ctx.createBuffer('result', GRAD_NORM_RESULT_BYTES, 'scratch');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeGradNorm(ctx, pass, { tensors, partials, result, maxNorm });
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return decodeGradNormResult(await ctx.read(result));
}

function relErr(a: number, b: number) {
  return Math.abs(a - b) / Math.abs(b);
}

describe('global gradient norm', () => {
  // f32 partial sums of at most 1024 squares, then a tree: relative error well under 1e-6.
  it('matches the float64 reference over odd lengths without clipping (rel. error < 1e-6)', async () => {
    const grads = ODD_LENGTHS.map((n, i) => randomArray(n, 10 + i, 0.5));
    const got = await gpuGradNorm(grads);
    const want = gradNormCpu(grads);
    expect(got.flags).toBe(0);
    expect(relErr(got.norm, want.norm)).toBeLessThan(1e-6);
    expect(got.scale).toBe(1);
  });

  it('reduces more partials than one final workgroup has threads (300001 values)', async () => {
    const grads = [randomArray(300_001, 3), randomArray(5, 4)];
    const got = await gpuGradNorm(grads);
    expect(relErr(got.norm, gradNormCpu(grads).norm)).toBeLessThan(1e-6);
  });

  it('computes the clip scale min(1, maxNorm / (norm + 1e-6))', async () => {
    const grads = ODD_LENGTHS.map((n, i) => randomArray(n, 20 + i));
    const want = gradNormCpu(grads, 1.0);
    expect(want.scale).toBeLessThan(0.1); // the data is chosen so that clipping is active
    const got = await gpuGradNorm(grads, 1.0);
    expect(relErr(got.scale, want.scale)).toBeLessThan(1e-6);
    const inactive = await gpuGradNorm(grads, 10 * want.norm);
    expect(inactive.scale).toBe(1);
  });

  it.each([
    ['NaN', NaN, NON_FINITE.nan],
    ['+Inf', Infinity, NON_FINITE.inf],
    ['-Inf', -Infinity, NON_FINITE.inf],
  ])('flags a %s in one gradient', async (_label, bad, flag) => {
    const grads = ODD_LENGTHS.map((n, i) => randomArray(n, 30 + i));
    grads[3][517] = bad;
    const got = await gpuGradNorm(grads, 1.0);
    expect(got.flags).toBe(flag);
    expect(got.norm).toBe(Number.isNaN(bad) ? NaN : Infinity);
    expect(gradNormCpu(grads).nonFinite).toBe(true);
  });

  it('flags a sum of squares that overflows f32 although every gradient is finite', async () => {
    const grads = [new Float32Array([3e19, 1, 2]), randomArray(7, 5)];
    const got = await gpuGradNorm(grads);
    expect(got.flags).toBe(NON_FINITE.overflow);
    expect(got.norm).toBe(Infinity);
  });

  it('rejects bad arguments with a clear message', async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const small = ctx.createBuffer('small', 16, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const args = { partials: small, result: small };
    expect(() => encodeGradNorm(ctx, pass, { ...args, tensors: [] })).toThrow(/no gradient tensors/);
    expect(() => encodeGradNorm(ctx, pass, { ...args, tensors: [{ grad: small, length: 5 }] })).toThrow(/gradient buffer 0 holds fewer than 5/);
    expect(() => encodeGradNorm(ctx, pass, { ...args, tensors: [{ grad: small, length: 0 }] })).toThrow(/invalid length 0/);
    expect(() => encodeGradNorm(ctx, pass, { ...args, tensors: [{ grad: small, length: 4 }], maxNorm: -1 })).toThrow(/maxNorm must be a positive/);
    pass.end();
  });
});
