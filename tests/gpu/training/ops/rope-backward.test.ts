import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { createRopeTable, encodeRope, ropeCpu, ropeTableCpu, type RopeConfig } from '../../../../src/engine/ops/rope';
import { encodeRopeBackward, ropeBackwardCpu, type RopeLayout } from '../../../../src/training/ops/rope-backward';
import { dot, expectGradClose, finiteDifferenceGrad, gradMismatches, randomFloat64 } from '../../../helpers/finite-difference';
import { testContext as context, runPass as run } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

const CONFIG: RopeConfig = { headDim: 6, theta: 10000, maxPositions: 16 };

/** The forward in f64 with the engine's (cos, sin) table, for the FD functional. */
function rope64(x: ArrayLike<number>, positions: number[], layout: RopeLayout, config: RopeConfig): Float64Array {
  const table = ropeTableCpu(config);
  const d = config.headDim;
  const half = d / 2;
  const stride = layout.tokenStride ?? layout.heads * d;
  const out = Float64Array.from(x);
  for (let t = 0; t < layout.tokens; t++) {
    if (positions[t] >= config.maxPositions) continue;
    for (let h = 0; h < layout.heads; h++) {
      const base = (layout.offset ?? 0) + t * stride + h * d;
      for (let i = 0; i < half; i++) {
        const c = table[(positions[t] * half + i) * 2];
        const s = table[(positions[t] * half + i) * 2 + 1];
        out[base + i] = x[base + i] * c - x[base + half + i] * s;
        out[base + half + i] = x[base + half + i] * c + x[base + i] * s;
      }
    }
  }
  return out;
}

// Both sides multiply by the same f32 table entries; only f32 rounding of two products and a sum.
const NMSE_BOUND = 1e-12;

describe('rope backward: finite differences of the CPU reference', () => {
  it.each([
    ['contiguous Q', { tokens: 3, heads: 2 }, [0, 7, 3]],
    ['K inside a fused QKV row, one position past the table', { tokens: 3, heads: 1, offset: 12, tokenStride: 30 }, [1, 99, 15]],
  ] as [string, RopeLayout, number[]][])('matches central differences: %s', (_name, layout, positions) => {
    const stride = layout.tokenStride ?? layout.heads * CONFIG.headDim;
    const size = (layout.offset ?? 0) + (layout.tokens - 1) * stride + layout.heads * CONFIG.headDim + 2;
    const x = randomFloat64(size, 11);
    const g = randomFloat64(size, 12);
    const numeric = finiteDifferenceGrad((xp) => dot(g, rope64(xp, positions, layout, CONFIG)), x);
    // The reference copies values outside the view, which is their gradient (identity) too.
    expectGradClose(ropeBackwardCpu(g, positions, layout, CONFIG), numeric, { rtol: 1e-6, atol: 1e-9 });
    // The transpose is not the forward: rotating by +θ again must fail the same check.
    expect(gradMismatches(rope64(g, positions, layout, CONFIG), numeric, { rtol: 1e-6, atol: 1e-9 }).length).toBeGreaterThan(0);
  });

  it('the f64 forward used above agrees with the engine CPU forward', () => {
    const layout = { tokens: 3, heads: 2 };
    const x = randomArray(36, 13);
    expect(maxAbsDiff(rope64(x, [0, 7, 3], layout, CONFIG), ropeCpu(x, [0, 7, 3], layout, CONFIG))).toBeLessThan(1e-6);
  });
});

describe('rope backward on the GPU', () => {
  it.each([
    [1, [5]],
    [4, [0, 3, 15, 9]],
  ])('matches the CPU reference for %i contiguous tokens', async (tokens, positions) => {
    const ctx = await context();
    const table = createRopeTable(ctx, CONFIG);
    const heads = 3;
    const dy = randomArray(tokens * heads * CONFIG.headDim, 20 + tokens);
    const dyBuf = ctx.upload('dy', dy, 'activations');
    run(ctx, (pass) => encodeRopeBackward(ctx, pass, { dY: dyBuf, table, positions: ctx.upload('pos', new Uint32Array(positions), 'activations'), tokens, heads }));
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

  it('rejects bad layouts and short buffers, naming the problem', async () => {
    const ctx = await context();
    const table = createRopeTable(ctx, CONFIG);
    const dy = ctx.createBuffer('dy', 10 * 4, 'scratch');
    const pos = ctx.createBuffer('pos', 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 2 })).toThrow(/dY holds 10 f32 values but 1 tokens × 2 heads reach 12/);
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 1, tokenStride: 4 })).toThrow(/tokenStride 4/);
    expect(() => encodeRopeBackward(ctx, pass, { dY: dy, table, positions: pos, tokens: 1, heads: 1, offset: -1 })).toThrow(/offset must be a non-negative integer/);
    expect(() => encodeRopeBackward(ctx, pass, { dY: ctx.createBuffer('big', 400, 'scratch'), table, positions: pos, tokens: 2, heads: 1 })).toThrow(/positions holds fewer than 2/);
    pass.end();
  });
});
