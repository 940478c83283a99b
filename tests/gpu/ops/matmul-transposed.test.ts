import { describe, expect, it } from 'vitest';
import { encodeMatmulTransposed, matmulTransposedCpu } from '../../../src/engine/ops/matmul-transposed';
import { WEIGHT_FORMATS } from '../../../src/engine/quant/formats';
import { nmse, randomArray } from '../../helpers/numeric';
import { KERNEL_NMSE, makeWeight, runPass, testContext } from './matmul-harness';

// y = x·W on the dequantized weights: only f32 summation order differs from the CPU reference
// (N ≤ 67 terms per output), so the bound of the forward matmul tests applies (KERNEL_NMSE).
describe.each(WEIGHT_FORMATS)('transposed matmul (dX = dY·W) with %s weights', (format) => {
  it.each([
    { m: 1, n: 5, k: 32 },
    { m: 17, n: 67, k: 161 },
    { m: 70, n: 20, k: 100 },
  ])('matches the CPU reference for M=$m N=$n K=$k', async ({ m, n, k }) => {
    const ctx = await testContext();
    const w = makeWeight(ctx, format, n, k, n * 7 + k);
    const x = randomArray(m * n, m + n);
    const y = ctx.createBuffer('y', m * k * 4, 'activations');
    const got = await runPass(ctx, y, m * k * 4, (pass) => encodeMatmulTransposed(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight: w.gpu, y, m }));
    expect(nmse(got, matmulTransposedCpu(x, w.dequantized, m, n, k))).toBeLessThan(KERNEL_NMSE);
  });
});

describe('transposed matmul options', () => {
  // Chunks split the reduction: the first writes, the rest add (and all add with accumulate).
  it.each([false, true])('sums over row chunks (accumulate=%s)', async (accumulate) => {
    const ctx = await testContext();
    const [m, n, k] = [3, 67, 96];
    const w = makeWeight(ctx, 'q4', n, k, 91, { maxChunkBytes: 7 * 48 });
    expect(w.gpu.chunks.length).toBe(10);
    const x = randomArray(m * n, 92);
    const prior = randomArray(m * k, 93);
    const y = ctx.upload('y', prior, 'activations');
    const got = await runPass(ctx, y, m * k * 4, (pass) => encodeMatmulTransposed(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight: w.gpu, y, m, accumulate }));
    expect(nmse(got, matmulTransposedCpu(x, w.dequantized, m, n, k, accumulate ? prior : undefined))).toBeLessThan(KERNEL_NMSE);
  });

  it('rejects an x buffer too small for [m, N]', async () => {
    const ctx = await testContext();
    const w = makeWeight(ctx, 'q8', 5, 32, 94);
    const pass = ctx.device.createCommandEncoder().beginComputePass();
    expect(() => encodeMatmulTransposed(ctx, pass, { x: ctx.createBuffer('x', 16, 'scratch'), weight: w.gpu, y: ctx.createBuffer('y', 1024, 'scratch'), m: 2 }))
      .toThrow(/matmulTransposed\(w5x32\): x holds 16 bytes, needs 2×5 f32/);
    pass.end();
  });
});
