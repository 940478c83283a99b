import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { rmsNormCpu, type RmsNormLayout } from '../../../../src/engine/ops/rmsnorm';
import { encodeRmsNormBackward, rmsNormBackwardCpu, type GradView } from '../../../../src/training/ops/rmsnorm-backward';
import { dot, expectGradClose, finiteDifferenceGrad, gradMismatches, randomFloat64 } from '../../../helpers/finite-difference';
import { testContext as context, runPass as run } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

async function readF32(ctx: GpuContext, buffer: GPUBuffer, count: number) {
  return new Float32Array(await ctx.read(buffer, count * 4));
}

/** The forward in f64 through the same views (the FD functional needs it free of f32 rounding). */
function rmsNorm64(x: ArrayLike<number>, w: ArrayLike<number>, layout: RmsNormLayout, eps: number): Float64Array {
  const groups = layout.groups ?? 1;
  const n = layout.length;
  const rowStride = layout.rowStride ?? groups * n;
  const groupStride = layout.groupStride ?? n;
  const out = new Float64Array(layout.rows * groups * n);
  for (let r = 0; r < layout.rows; r++) {
    for (let g = 0; g < groups; g++) {
      const s = (layout.offset ?? 0) + r * rowStride + g * groupStride;
      let sq = 0;
      for (let i = 0; i < n; i++) sq += x[s + i] * x[s + i];
      const inv = 1 / Math.sqrt(sq / n + eps);
      for (let i = 0; i < n; i++) out[(r * groups + g) * n + i] = x[s + i] * inv * w[i];
    }
  }
  return out;
}

/** Scatters a contiguous [rows, groups, length] gradient into a buffer through a view. */
function scatter(target: Float32Array, values: ArrayLike<number>, rows: number, groups: number, length: number, view: Required<GradView>) {
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < length; i++) target[view.offset + r * view.rowStride + g * view.groupStride + i] = values[(r * groups + g) * length + i];
    }
  }
}

// GPU vs the f64 reference: f32 rounding plus a different summation order; the dX formula
// subtracts two terms of similar size, so bound the error relative to the gradient's scale.
const NMSE_BOUND = 1e-9;
const EPS = 1e-6;

describe('rmsnorm backward: finite differences of the CPU reference', () => {
  const cases: [string, RmsNormLayout, number][] = [
    ['contiguous rows', { rows: 3, length: 5 }, 1e-6],
    ['per-head view with offset and strides (q_norm on fused QKV)', { rows: 2, length: 4, groups: 3, offset: 2, rowStride: 17, groupStride: 5 }, 1e-5],
    ['a single value with a large eps', { rows: 1, length: 1 }, 0.5],
  ];
  it.each(cases)('dX and dW match central differences: %s', (_name, layout, eps) => {
    const groups = layout.groups ?? 1;
    const extent =
      (layout.offset ?? 0) +
      (layout.rows - 1) * (layout.rowStride ?? groups * layout.length) +
      (groups - 1) * (layout.groupStride ?? layout.length) +
      layout.length;
    const x = randomFloat64(extent, 1, 2);
    const w = randomFloat64(layout.length, 2, 1.5);
    const g = randomFloat64(layout.rows * groups * layout.length, 3);
    // Contiguous dY: the grad view is the contiguous [rows, groups, length] layout.
    const gradView: GradView = { offset: 0, rowStride: groups * layout.length, groupStride: layout.length };
    const { dX, dWeight } = rmsNormBackwardCpu(x, w, g, { ...layout, grad: gradView }, eps);
    // Values outside the view do not affect the output: their numeric gradient is 0 and skipped.
    const numericX = finiteDifferenceGrad((xp) => dot(g, rmsNorm64(xp, w, layout, eps)), x);
    const gathered = new Float64Array(dX.length);
    const rowStride = layout.rowStride ?? groups * layout.length;
    const groupStride = layout.groupStride ?? layout.length;
    for (let r = 0; r < layout.rows; r++) {
      for (let k = 0; k < groups; k++) {
        for (let i = 0; i < layout.length; i++)
          gathered[(r * groups + k) * layout.length + i] = numericX[(layout.offset ?? 0) + r * rowStride + k * groupStride + i];
      }
    }
    expectGradClose(dX, gathered, { rtol: 1e-6, atol: 1e-8 });
    expectGradClose(
      dWeight,
      finiteDifferenceGrad((wp) => dot(g, rmsNorm64(x, wp, layout, eps)), w),
      { rtol: 1e-6, atol: 1e-8 },
    );
  });

  it('the f64 forward used above agrees with the engine CPU forward', () => {
    const layout: RmsNormLayout = { rows: 2, length: 4, groups: 3, offset: 2, rowStride: 17, groupStride: 5 };
    const x = randomArray(2 + 17 + 2 * 5 + 4, 5, 2);
    const w = randomArray(4, 6);
    expect(maxAbsDiff(rmsNorm64(x, w, layout, EPS), rmsNormCpu(x, w, layout, EPS))).toBeLessThan(1e-5);
  });

  it('the check catches a backward missing the r³ term', () => {
    const layout: RmsNormLayout = { rows: 2, length: 6 };
    const x = randomFloat64(12, 7);
    const w = randomFloat64(6, 8);
    const g = randomFloat64(12, 9);
    const numeric = finiteDifferenceGrad((xp) => dot(g, rmsNorm64(xp, w, layout, EPS)), x);
    // Only the first term r · w ⊙ dY: what a backward that treats r as a constant would give.
    const wrong = new Float64Array(12);
    for (let r = 0; r < 2; r++) {
      let sq = 0;
      for (let i = 0; i < 6; i++) sq += x[r * 6 + i] ** 2;
      const inv = 1 / Math.sqrt(sq / 6 + EPS);
      for (let i = 0; i < 6; i++) wrong[r * 6 + i] = inv * w[i] * g[r * 6 + i];
    }
    expect(gradMismatches(wrong, numeric, { rtol: 1e-6, atol: 1e-8 }).length).toBeGreaterThan(0);
  });
});

describe('rmsnorm backward on the GPU', () => {
  it.each(
    (['tree', 'serial'] as const).flatMap((kernel) =>
      [
        [1, 7],
        [3, 129],
      ].map(([rows, length]) => [kernel, rows, length] as const),
    ),
  )('%s dX kernel: dX into a separate buffer and dW match the CPU reference: %i rows of length %i', async (kernel, rows, length) => {
    const ctx = await context();
    const x = randomArray(rows * length, 10 + length, 3);
    const w = randomArray(length, 20 + length);
    const dy = randomArray(rows * length, 30 + length);
    const dyBuf = ctx.upload('dy', dy, 'activations');
    const dX = ctx.createBuffer('dx', rows * length * 4, 'activations');
    const dW = ctx.createBuffer('dw', length * 4, 'scratch');
    const weightGrad = { dWeight: dW, invRmsScratch: ctx.createBuffer('inv-rms', rows * 4, 'scratch') };
    run(ctx, (pass) =>
      encodeRmsNormBackward(ctx, pass, {
        x: ctx.upload('x', x, 'activations'),
        weight: ctx.upload('w', w, 'weights'),
        dY: dyBuf,
        dX,
        weightGrad,
        rows,
        length,
        eps: EPS,
        kernel,
      }),
    );
    const expected = rmsNormBackwardCpu(x, w, dy, { rows, length }, EPS);
    expect(nmse(await readF32(ctx, dX, rows * length), expected.dX)).toBeLessThan(NMSE_BOUND);
    expect(nmse(await readF32(ctx, dW, length), expected.dWeight)).toBeLessThan(NMSE_BOUND);
    // dY is an input here: it must be left as it was.
    expect(Array.from(await readF32(ctx, dyBuf, rows * length))).toEqual(Array.from(dy));
  });

  it('accumulates into dX (residual gradient) instead of overwriting', async () => {
    const ctx = await context();
    const rows = 2;
    const length = 7;
    const x = randomArray(rows * length, 41, 3);
    const w = randomArray(length, 42);
    const dy = randomArray(rows * length, 43);
    const prior = randomArray(rows * length, 44);
    const dX = ctx.upload('dx', prior, 'activations');
    run(ctx, (pass) =>
      encodeRmsNormBackward(ctx, pass, {
        x: ctx.upload('x', x, 'activations'),
        weight: ctx.upload('w', w, 'weights'),
        dY: ctx.upload('dy', dy, 'activations'),
        dX,
        accumulate: true,
        rows,
        length,
        eps: EPS,
      }),
    );
    const grad = rmsNormBackwardCpu(x, w, dy, { rows, length }, EPS).dX;
    expect(
      nmse(
        await readF32(ctx, dX, rows * length),
        prior.map((p, i) => p + grad[i]),
      ),
    ).toBeLessThan(NMSE_BOUND);
  });

  it.each(['tree', 'serial'] as const)('rewrites the Q gradient of a fused dQKV buffer in place (q_norm, %s kernel) and leaves K/V alone', async (kernel) => {
    const ctx = await context();
    // 3 tokens, 5 query heads of head_dim 9, then 2 + 2 kv heads.
    const tokens = 3;
    const headDim = 9;
    const qHeads = 5;
    const rowStride = (qHeads + 4) * headDim;
    const layout: RmsNormLayout = { rows: tokens, length: headDim, groups: qHeads, rowStride };
    const x = randomArray(tokens * rowStride, 77, 2);
    const w = randomArray(headDim, 78);
    const dqkv = randomArray(tokens * rowStride, 79);
    const dBuf = ctx.upload('dqkv', dqkv, 'activations');
    // dW too: it must read dY before the in-place dX overwrites it.
    const dWeight = ctx.createBuffer('dw', headDim * 4, 'scratch');
    const weightGrad = { dWeight, invRmsScratch: ctx.createBuffer('inv-rms', tokens * qHeads * 4, 'scratch') };
    run(ctx, (pass) =>
      encodeRmsNormBackward(ctx, pass, {
        x: ctx.upload('qkv-saved', x, 'activations'),
        weight: ctx.upload('qnorm', w, 'weights'),
        dY: dBuf,
        weightGrad,
        ...layout,
        eps: EPS,
        kernel,
      }),
    );
    const got = await readF32(ctx, dBuf, dqkv.length);
    const reference = rmsNormBackwardCpu(x, w, dqkv, layout, EPS);
    const expected = Float32Array.from(dqkv);
    scatter(expected, reference.dX, tokens, qHeads, headDim, { offset: 0, rowStride, groupStride: headDim });
    expect(nmse(got, expected)).toBeLessThan(NMSE_BOUND);
    expect(nmse(await readF32(ctx, dWeight, headDim), reference.dWeight)).toBeLessThan(NMSE_BOUND);
    for (let t = 0; t < tokens; t++) {
      const start = t * rowStride + qHeads * headDim;
      expect(Array.from(got.subarray(start, (t + 1) * rowStride))).toEqual(Array.from(dqkv.subarray(start, (t + 1) * rowStride)));
    }
  });

  it('reads x and the gradient through different views (saved K contiguous, dK inside fused dQKV)', async () => {
    const ctx = await context();
    const tokens = 4;
    const headDim = 6;
    const kvHeads = 2;
    const rowStride = 7 * headDim;
    const grad: Required<GradView> = { offset: 3 * headDim, rowStride, groupStride: headDim };
    const layout = { rows: tokens, length: headDim, groups: kvHeads, grad };
    const x = randomArray(tokens * kvHeads * headDim, 91, 2);
    const w = randomArray(headDim, 92);
    const dqkv = randomArray(tokens * rowStride, 93);
    const dX = ctx.createBuffer('dqkv-out', dqkv.length * 4, 'activations');
    ctx.write(dX, dqkv);
    run(ctx, (pass) =>
      encodeRmsNormBackward(ctx, pass, {
        x: ctx.upload('k', x, 'activations'),
        weight: ctx.upload('w', w, 'weights'),
        dY: ctx.upload('dqkv', dqkv, 'activations'),
        dX,
        ...layout,
        eps: 1e-5,
      }),
    );
    const expected = Float32Array.from(dqkv);
    scatter(expected, rmsNormBackwardCpu(x, w, dqkv, layout, 1e-5).dX, tokens, kvHeads, headDim, grad);
    expect(nmse(await readF32(ctx, dX, dqkv.length), expected)).toBeLessThan(NMSE_BOUND);
  });

  it('rejects bad buffers and views, naming the problem', async () => {
    const ctx = await context();
    const x = ctx.createBuffer('x', 10 * 4, 'scratch');
    const w = ctx.createBuffer('w', 5 * 4, 'scratch');
    const dy = ctx.createBuffer('dy', 10 * 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: dy, rows: 3, length: 5, eps: EPS })).toThrow(
      /x holds 10 f32 values but the view reaches 15/,
    );
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: dy, rows: 2, length: 5, grad: { offset: 1 }, eps: EPS })).toThrow(
      /dY holds 10 f32 values but the grad view reaches 11/,
    );
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: dy, dX: dy, rows: 2, length: 5, eps: EPS })).toThrow(/omit `dX`/);
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: x, rows: 2, length: 5, eps: EPS })).toThrow(/separate buffer/);
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: dy, accumulate: true, rows: 2, length: 5, eps: EPS })).toThrow(
      /accumulate needs a separate dX/,
    );
    const weightGrad = { dWeight: ctx.createBuffer('dw', 5 * 4, 'scratch'), invRmsScratch: ctx.createBuffer('inv', 4, 'scratch') };
    expect(() => encodeRmsNormBackward(ctx, pass, { x, weight: w, dY: dy, weightGrad, rows: 2, length: 5, eps: EPS })).toThrow(
      /invRmsScratch holds fewer than 2/,
    );
    pass.end();
  });
});
