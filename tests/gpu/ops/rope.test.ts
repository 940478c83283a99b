import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { createRopeTable, encodeRope, ropeCpu, ropeInvFreq, ropeTableCpu, type RopeConfig } from '../../../src/engine/ops/rope';
import { getTestDevice } from '../../helpers/gpu';
import { nmse, randomArray } from '../../helpers/numeric';

// Shader compile and validation errors otherwise surface only as wrong numbers: fail on any.
const gpuErrors: string[] = [];
beforeAll(async () => {
  (await getTestDevice()).device.addEventListener('uncapturederror', (event) => gpuErrors.push((event as GPUUncapturedErrorEvent).error.message));
});
afterEach(() => {
  expect(gpuErrors.splice(0)).toEqual([]);
});

async function context() {
  return new GpuContext((await getTestDevice()).device);
}

async function runRope(ctx: GpuContext, x: Float32Array, positions: number[], layout: { tokens: number; heads: number; offset?: number; tokenStride?: number }, config: RopeConfig) {
  const table = createRopeTable(ctx, config);
  const xBuf = ctx.upload('x', x, 'activations');
  const posBuf = ctx.upload('positions', new Uint32Array(positions), 'activations');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeRope(ctx, pass, { x: xBuf, table, positions: posBuf, ...layout });
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return new Float32Array(await ctx.read(xBuf, x.length * 4));
}

// Both sides use the same f32 (cos, sin) values; the GPU does two f32 products and a sum (maybe
// fused), the CPU the same in f64 rounded once: relative error ~1e-7 per value, NMSE < 1e-13.
const NMSE_BOUND = 1e-11;

describe('rope', () => {
  it.each([
    // [tokens, heads, headDim, positions]
    [1, 3, 6, [0]],
    [1, 2, 10, [4094]],
    [5, 3, 14, [0, 1, 2, 3, 4]],
    [4, 1, 18, [7, 0, 30000, 123]],
  ])('matches the CPU reference: %i tokens × %i heads × head_dim %i', async (tokens, heads, headDim, positions) => {
    const ctx = await context();
    const config = { headDim, theta: 1_000_000, maxPositions: 32768 };
    const x = randomArray(tokens * heads * headDim, headDim + tokens, 2);
    const got = await runRope(ctx, x, positions, { tokens, heads }, config);
    expect(nmse(got, ropeCpu(x, positions, { tokens, heads }, config))).toBeLessThan(NMSE_BOUND);
  });

  it('rotates only the K part of a fused QKV buffer and skips positions past the table', async () => {
    const ctx = await context();
    const headDim = 8;
    const [qHeads, kvHeads, tokens] = [3, 1, 3];
    const tokenStride = (qHeads + 2 * kvHeads) * headDim;
    const layout = { tokens, heads: kvHeads, offset: qHeads * headDim, tokenStride };
    const config = { headDim, theta: 10_000, maxPositions: 64 };
    const x = randomArray(tokens * tokenStride, 5);
    const positions = [3, 63, 64]; // the last is past the table: left unrotated
    const got = await runRope(ctx, x, positions, layout, config);
    const expected = ropeCpu(x, positions, layout, config);
    expect(nmse(got, expected)).toBeLessThan(NMSE_BOUND);
    const lastK = 2 * tokenStride + qHeads * headDim;
    expect(Array.from(got.subarray(lastK, lastK + headDim))).toEqual(Array.from(x.subarray(lastK, lastK + headDim)));
    // Q and V of token 0 untouched, K of token 0 rotated.
    expect(Array.from(got.subarray(0, qHeads * headDim))).toEqual(Array.from(x.subarray(0, qHeads * headDim)));
    expect(got[qHeads * headDim]).not.toBe(x[qHeads * headDim]);
  });

  it('uses the rotate-half layout: head_dim 2 at position 1 rotates (x1, x2) by 1 radian', () => {
    const [x1, x2] = [0.5, -2];
    const got = ropeCpu(new Float32Array([x1, x2]), [1], { tokens: 1, heads: 1 }, { headDim: 2, theta: 10_000, maxPositions: 2 });
    expect(got[0]).toBeCloseTo(x1 * Math.cos(1) - x2 * Math.sin(1), 6);
    expect(got[1]).toBeCloseTo(x2 * Math.cos(1) + x1 * Math.sin(1), 6);
  });

  it('builds angles in f32 like Hugging Face (position × f32 inv_freq, rounded to f32)', () => {
    const config = { headDim: 64, theta: 1_000_000, maxPositions: 30001 };
    const invFreq = ropeInvFreq(64, 1_000_000);
    expect(invFreq[0]).toBe(1);
    expect(invFreq[1]).toBe(Math.fround(1 / Math.fround(1_000_000 ** Math.fround(2 / 64))));
    const table = ropeTableCpu(config);
    // At position 30000, the f32 angle of pair 5 differs from the exact product by up to half an
    // ULP (~1e-3 rad here): the table must follow the f32 angle, as HF does.
    const angle = Math.fround(30000 * invFreq[5]);
    expect(table[(30000 * 32 + 5) * 2]).toBe(Math.fround(Math.cos(angle)));
    expect(table[(30000 * 32 + 5) * 2 + 1]).toBe(Math.fround(Math.sin(angle)));
  });

  it('rejects odd head_dim and buffers shorter than the layout', async () => {
    const ctx = await context();
    expect(() => createRopeTable(ctx, { headDim: 7, theta: 10_000, maxPositions: 4 })).toThrow(/head_dim must be a positive even integer, got 7/);
    const table = createRopeTable(ctx, { headDim: 4, theta: 10_000, maxPositions: 4 });
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const x = ctx.createBuffer('x', 8 * 4, 'scratch');
    const positions = ctx.createBuffer('p', 4 * 4, 'scratch');
    expect(() => encodeRope(ctx, pass, { x, table, positions, tokens: 3, heads: 1 })).toThrow(/x holds 8 f32 values but 3 tokens × 1 heads reach 12/);
    pass.end();
  });
});
