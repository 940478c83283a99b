import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { encodeResidualAdd, residualAddCpu } from '../../../src/engine/ops/residual-add';
import { getTestDevice } from '../../helpers/gpu';
import { maxAbsDiff, randomArray } from '../../helpers/numeric';

describe('residual add', () => {
  // Odd lengths: below, at and above one workgroup (256), and not a multiple of it.
  it.each([1, 7, 255, 257, 1000, 3 * 896 + 5])('matches the CPU reference for length %i (exact)', async (length) => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const a = randomArray(length, 1 + length);
    const b = randomArray(length, 2 + length);
    const aBuf = ctx.upload('a', a, 'activations');
    const bBuf = ctx.upload('b', b, 'activations');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeResidualAdd(ctx, pass, { a: aBuf, b: bBuf, length });
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    const got = new Float32Array(await ctx.read(aBuf, length * 4));
    // f32 addition is exact to the same rounding on both sides.
    expect(maxAbsDiff(got, residualAddCpu(a, b))).toBe(0);
  });

  it('rejects buffers shorter than the length', async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const small = ctx.createBuffer('small', 16, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeResidualAdd(ctx, pass, { a: small, b: small, length: 5 })).toThrow(/fewer than 5/);
    pass.end();
  });
});
