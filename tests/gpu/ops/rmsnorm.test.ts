import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { encodeRmsNorm, rmsNormCpu, type RmsNormLayout } from '../../../src/engine/ops/rmsnorm';
import { testContext as context, runPass as run } from '../../helpers/gpu';
import { nmse, randomArray } from '../../helpers/numeric';

// Shader compile and validation errors otherwise surface only as wrong numbers: fail on any.

// Both sides compute in f32 apart from summation order (tree vs sequential) and inverseSqrt's
// 2-ULP bound, so the relative error per value is a few 1e-7 and NMSE stays far below 1e-10.
const NMSE_BOUND = 1e-10;
const EPS = 1e-6;

describe('rmsnorm', () => {
  // Lengths below, at and above the workgroup (128), odd; rows 1 and above 1.
  // Both kernels: 'tree' (GPUs) and 'serial' (barrier-free, the default on SwiftShader).
  it.each(
    (['tree', 'serial'] as const).flatMap((kernel) =>
      [
        [1, 7],
        [3, 129],
        [5, 896 + 3],
        [2, 1],
      ].map(([rows, length]) => [kernel, rows, length] as const),
    ),
  )('%s kernel matches the CPU reference out of place for %i rows of length %i', async (kernel, rows, length) => {
    const ctx = await context();
    const x = randomArray(rows * length, 10 + length, 3);
    const w = randomArray(length, 20 + length);
    const xBuf = ctx.upload('x', x, 'activations');
    const wBuf = ctx.upload('w', w, 'weights');
    const out = ctx.createBuffer('out', rows * length * 4, 'activations');
    run(ctx, (pass) => encodeRmsNorm(ctx, pass, { x: xBuf, weight: wBuf, out, rows, length, eps: EPS, kernel }));
    const got = new Float32Array(await ctx.read(out, rows * length * 4));
    expect(nmse(got, rmsNormCpu(x, w, { rows, length }, EPS))).toBeLessThan(NMSE_BOUND);
  });

  it.each(['tree', 'serial'] as const)('normalizes per head in place inside a fused QKV buffer (Qwen3 q_norm, %s kernel)', async (kernel) => {
    const ctx = await context();
    // 3 tokens, 5 query heads of head_dim 9, then 2+2 kv heads: q_norm touches only the Q part.
    const tokens = 3;
    const headDim = 9;
    const qHeads = 5;
    const rowStride = (qHeads + 4) * headDim;
    const x = randomArray(tokens * rowStride, 77, 2);
    const w = randomArray(headDim, 78);
    const xBuf = ctx.upload('qkv', x, 'activations');
    const wBuf = ctx.upload('qnorm', w, 'weights');
    const layout: RmsNormLayout = { rows: tokens, length: headDim, groups: qHeads, rowStride };
    run(ctx, (pass) => encodeRmsNorm(ctx, pass, { x: xBuf, weight: wBuf, ...layout, eps: EPS, kernel }));
    const got = new Float32Array(await ctx.read(xBuf, x.length * 4));
    const expectedQ = rmsNormCpu(x, w, layout, EPS);
    const gotQ = new Float32Array(expectedQ.length);
    for (let t = 0; t < tokens; t++) gotQ.set(got.subarray(t * rowStride, t * rowStride + qHeads * headDim), t * qHeads * headDim);
    expect(nmse(gotQ, expectedQ)).toBeLessThan(NMSE_BOUND);
    // The K and V parts of every token row must be untouched.
    for (let t = 0; t < tokens; t++) {
      const start = t * rowStride + qHeads * headDim;
      expect(Array.from(got.subarray(start, (t + 1) * rowStride))).toEqual(Array.from(x.subarray(start, (t + 1) * rowStride)));
    }
  });

  it('normalizes a strided view with an offset out of place (k_norm on a fused buffer)', async () => {
    const ctx = await context();
    const tokens = 4;
    const headDim = 6;
    const layout: RmsNormLayout = { rows: tokens, length: headDim, groups: 2, offset: 3 * headDim, rowStride: 7 * headDim };
    const x = randomArray(tokens * 7 * headDim, 91);
    const w = randomArray(headDim, 92);
    const out = ctx.createBuffer('out', tokens * 2 * headDim * 4, 'activations');
    run(ctx, (pass) => encodeRmsNorm(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight: ctx.upload('w', w, 'weights'), out, ...layout, eps: 1e-5 }));
    const got = new Float32Array(await ctx.read(out, tokens * 2 * headDim * 4));
    expect(nmse(got, rmsNormCpu(x, w, layout, 1e-5))).toBeLessThan(NMSE_BOUND);
  });

  it('the CPU reference matches the formula on a hand-checked vector', () => {
    // x = [3, 4]: mean(x²) = 12.5, rsqrt(12.5) = 0.28284271; w = [1, 2].
    const got = rmsNormCpu(new Float32Array([3, 4]), new Float32Array([1, 2]), { rows: 1, length: 2 }, 0);
    expect(got[0]).toBeCloseTo(3 / Math.sqrt(12.5), 6);
    expect(got[1]).toBeCloseTo((2 * 4) / Math.sqrt(12.5), 6);
  });

  it('rejects a view that runs past the buffer, naming the sizes', async () => {
    const ctx = await context();
    const x = ctx.createBuffer('x', 10 * 4, 'scratch');
    const w = ctx.createBuffer('w', 5 * 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeRmsNorm(ctx, pass, { x, weight: w, rows: 3, length: 5, eps: EPS })).toThrow(/x holds 10 f32 values but the view reaches 15/);
    expect(() => encodeRmsNorm(ctx, pass, { x, weight: w, rows: 1, length: 3, groups: 2, groupStride: 2, eps: EPS })).toThrow(/overlaps/);
    pass.end();
  });
});
