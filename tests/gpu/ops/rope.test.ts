// RoPE forward and backward (src/engine/ops/rope.ts): both directions against the f64 CPU
// references on odd shapes, the backward reference against central differences, and the two
// directions as one template.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/engine/gpu/context';
import {
  createRopeTable,
  encodeRope,
  encodeRopeBackward,
  ropeBackwardCpu,
  ropeCpu,
  ropeInvFreq,
  ropeRotateCpu,
  ropeTableCpu,
  ropeWgsl,
  type RopeConfig,
  type RopeLayout,
} from '../../../src/engine/ops/rope';
import { dot, expectGradClose, finiteDifferenceGrad, gradMismatches, randomFloat64 } from '../../helpers/finite-difference';
import { testContext as context, runPass as run } from '../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../helpers/numeric';

async function runRope(ctx: GpuContext, x: Float32Array, positions: number[], layout: RopeLayout, config: RopeConfig) {
  const table = createRopeTable(ctx, config);
  const xBuf = ctx.upload('x', x, 'activations');
  const posBuf = ctx.upload('positions', new Uint32Array(positions), 'activations');
  run(ctx, (pass) => encodeRope(ctx, pass, { x: xBuf, table, positions: posBuf, ...layout }));
  return new Float32Array(await ctx.read(xBuf, x.length * 4));
}

// Both sides use the same f32 (cos, sin) values; the GPU does two f32 products and a sum (maybe
// fused), the CPU the same in f64 rounded once: relative error ~1e-7 per value, NMSE < 1e-13.
const NMSE_BOUND = 1e-11;
const CONFIG: RopeConfig = { headDim: 6, theta: 10000, maxPositions: 16 };

describe('rope forward', () => {
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

  it('uses the rotate-half layout: head_dim 2 at position 1 rotates (x1, x2) by +1 radian, the backward by −1', () => {
    const [x1, x2] = [0.5, -2];
    const config = { headDim: 2, theta: 10_000, maxPositions: 2 };
    const got = ropeCpu(new Float32Array([x1, x2]), [1], { tokens: 1, heads: 1 }, config);
    expect(got[0]).toBeCloseTo(x1 * Math.cos(1) - x2 * Math.sin(1), 6);
    expect(got[1]).toBeCloseTo(x2 * Math.cos(1) + x1 * Math.sin(1), 6);
    const back = ropeBackwardCpu([x1, x2], [1], { tokens: 1, heads: 1 }, config);
    expect(back[0]).toBeCloseTo(x1 * Math.cos(1) + x2 * Math.sin(1), 6);
    expect(back[1]).toBeCloseTo(x2 * Math.cos(1) - x1 * Math.sin(1), 6);
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
    expect(() => encodeRope(ctx, pass, { x, table, positions, tokens: 3, heads: 1 })).toThrow(/rope: x holds 8 f32 values but 3 tokens × 1 heads reach 12/);
    pass.end();
  });
});

describe('rope backward: finite differences of the CPU reference', () => {
  it.each([
    ['contiguous Q', { tokens: 3, heads: 2 }, [0, 7, 3]],
    ['K inside a fused QKV row, one position past the table', { tokens: 3, heads: 1, offset: 12, tokenStride: 30 }, [1, 99, 15]],
  ] as [string, RopeLayout, number[]][])('matches central differences: %s', (_name, layout, positions) => {
    const stride = layout.tokenStride ?? layout.heads * CONFIG.headDim;
    const size = (layout.offset ?? 0) + (layout.tokens - 1) * stride + layout.heads * CONFIG.headDim + 2;
    const x = randomFloat64(size, 11);
    const g = randomFloat64(size, 12);
    const forward = (v: ArrayLike<number>) => ropeRotateCpu(v, positions, layout, CONFIG, 'forward');
    const numeric = finiteDifferenceGrad((xp) => dot(g, forward(xp)), x);
    // The reference copies values outside the view, which is their gradient (identity) too.
    expectGradClose(ropeBackwardCpu(g, positions, layout, CONFIG), numeric, { rtol: 1e-6, atol: 1e-9 });
    // The transpose is not the forward: rotating by +θ again must fail the same check.
    expect(gradMismatches(forward(g), numeric, { rtol: 1e-6, atol: 1e-9 }).length).toBeGreaterThan(0);
  });

  it('the f64 forward used above is the engine CPU forward before its f32 rounding', () => {
    const layout = { tokens: 3, heads: 2 };
    const x = randomArray(36, 13);
    const f64 = ropeRotateCpu(x, [0, 7, 3], layout, CONFIG, 'forward');
    expect(Array.from(ropeCpu(x, [0, 7, 3], layout, CONFIG))).toEqual(Array.from(Float32Array.from(f64)));
    expect(maxAbsDiff(f64, x)).toBeGreaterThan(1e-2);
  });
});

describe('rope backward on the GPU', () => {
  it.each([
    [1, 3, [5]],
    [5, 3, [0, 3, 15, 9, 1]],
    [4, 1, [2, 0, 15, 7]],
  ])('matches the CPU reference for %i contiguous tokens × %i heads', async (tokens, heads, positions) => {
    const ctx = await context();
    const table = createRopeTable(ctx, CONFIG);
    const dy = randomArray(tokens * heads * CONFIG.headDim, 20 + tokens);
    const dyBuf = ctx.upload('dy', dy, 'activations');
    run(ctx, (pass) =>
      encodeRopeBackward(ctx, pass, { dY: dyBuf, table, positions: ctx.upload('pos', new Uint32Array(positions), 'activations'), tokens, heads }),
    );
    const got = new Float32Array(await ctx.read(dyBuf, dy.length * 4));
    expect(nmse(got, ropeBackwardCpu(dy, positions, { tokens, heads }, CONFIG))).toBeLessThan(NMSE_BOUND);
  });

  it('undoes the forward on the K part of a fused QKV buffer and leaves Q/V and out-of-table positions alone', async () => {
    const ctx = await context();
    const table = createRopeTable(ctx, CONFIG);
    const tokens = 3;
    const layout = { tokens, heads: 2, offset: 4 * CONFIG.headDim, tokenStride: 8 * CONFIG.headDim };
    const positions = new Uint32Array([2, 40, 11]);
    const qkv = randomArray(tokens * layout.tokenStride, 31);
    const buf = ctx.upload('qkv', qkv, 'activations');
    const posBuf = ctx.upload('pos', positions, 'activations');
    // Rotation is orthogonal: the backward (transpose) after the forward is the identity.
    run(ctx, (pass) => {
      encodeRope(ctx, pass, { x: buf, table, positions: posBuf, ...layout });
      encodeRopeBackward(ctx, pass, { dY: buf, table, positions: posBuf, ...layout });
    });
    const got = new Float32Array(await ctx.read(buf, qkv.length * 4));
    expect(maxAbsDiff(got, qkv)).toBeLessThan(1e-6);
    // And the backward alone matches the reference on this layout.
    const dyBuf = ctx.upload('dqkv', qkv, 'activations');
    run(ctx, (pass) => encodeRopeBackward(ctx, pass, { dY: dyBuf, table, positions: posBuf, ...layout }));
    const back = new Float32Array(await ctx.read(dyBuf, qkv.length * 4));
    expect(nmse(back, ropeBackwardCpu(qkv, positions, layout, CONFIG))).toBeLessThan(NMSE_BOUND);
    expect(maxAbsDiff(back, qkv)).toBeGreaterThan(1e-3);
  });

  it('is the forward template with only the sign of sin flipped', () => {
    const forward = ropeWgsl('forward', 6, 2, 0, 12, 16).split('\n');
    const backward = ropeWgsl('backward', 6, 2, 0, 12, 16).split('\n');
    expect(forward.length).toBe(backward.length);
    const differing = forward.flatMap((line, i) => (line === backward[i] ? [] : [[line, backward[i]]]));
    expect(differing).toEqual([['const SIN_SIGN = 1.0;', 'const SIN_SIGN = -1.0;']]);
  });

  it('rejects bad layouts and short buffers, naming the problem', async () => {
    const ctx = await context();
    const table = createRopeTable(ctx, CONFIG);
    const dy = ctx.createBuffer('dy', 10 * 4, 'scratch');
    const pos = ctx.createBuffer('pos', 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 2 })).toThrow(
      /ropeBackward: dY holds 10 f32 values but 1 tokens × 2 heads reach 12/,
    );
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 1, tokenStride: 4 })).toThrow(/tokenStride 4/);
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 1, offset: -1 })).toThrow(
      /offset must be a non-negative integer/,
    );
    expect(() => encodeRopeBackward(ctx, pass, { dY: ctx.createBuffer('big', 400, 'scratch'), table, positions: pos, tokens: 2, heads: 1 })).toThrow(
      /positions holds fewer than 2/,
    );
    pass.end();
  });
});
