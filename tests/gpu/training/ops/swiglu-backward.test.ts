import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { swigluCpu } from '../../../../src/engine/ops/swiglu';
import { encodeSwigluBackward, swigluBackwardCpu } from '../../../../src/training/ops/swiglu-backward';
import { dot, expectGradClose, finiteDifferenceGrad, gradMismatches, randomFloat64 } from '../../../helpers/finite-difference';
import { testContext as context, runPass as run } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

/** Splits a fused [tokens, 2I] buffer into its gate and up halves. */
function splitGateUp(fused: ArrayLike<number>, intermediate: number): { gate: Float64Array; up: Float64Array } {
  const tokens = fused.length / (2 * intermediate);
  if (!Number.isInteger(tokens)) throw new Error(`splitGateUp: ${fused.length} values are not rows of 2 × intermediate ${intermediate}`);
  const gate = new Float64Array(tokens * intermediate);
  const up = new Float64Array(tokens * intermediate);
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < intermediate; c++) {
      gate[t * intermediate + c] = fused[t * 2 * intermediate + c];
      up[t * intermediate + c] = fused[t * 2 * intermediate + intermediate + c];
    }
  }
  return { gate, up };
}

/** silu(g) · u in f64 over the fused [tokens, 2I] layout, for the FD functional. */
function swigluFused64(gateUp: ArrayLike<number>, intermediate: number): Float64Array {
  const { gate, up } = splitGateUp(gateUp, intermediate);
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
}

// Elementwise f32 math; exp's error is a few ULP, so relative errors stay near 1e-6.
const NMSE_BOUND = 1e-11;

describe('swiglu backward: finite differences of the CPU reference', () => {
  it.each([
    [1, 3],
    [3, 5],
  ])('gradient of the fused gate/up input matches central differences for %i tokens × intermediate %i', (tokens, intermediate) => {
    const gateUp = randomFloat64(tokens * 2 * intermediate, 50 + intermediate, 4);
    const g = randomFloat64(tokens * intermediate, 60 + intermediate);
    const { gate, up } = splitGateUp(gateUp, intermediate);
    const analytic = swigluBackwardCpu(gate, up, g, intermediate);
    const numeric = finiteDifferenceGrad((x) => dot(g, swigluFused64(x, intermediate)), gateUp);
    expectGradClose(analytic, numeric, { rtol: 1e-6, atol: 1e-9 });
    // silu'(g) taken as σ(g) (a common slip) must fail the check.
    const wrong = Float64Array.from(analytic);
    for (let i = 0; i < gate.length; i++) {
      const gi = i + Math.floor(i / intermediate) * intermediate;
      wrong[gi] = (g[i] * up[i]) / (1 + Math.exp(-gate[i]));
    }
    expect(gradMismatches(wrong, numeric, { rtol: 1e-6, atol: 1e-9 }).length).toBeGreaterThan(0);
  });

  it('the f64 forward used above agrees with the engine CPU forward', () => {
    const gateUp = randomArray(2 * 2 * 4, 71, 4);
    const { gate, up } = splitGateUp(gateUp, 4);
    expect(maxAbsDiff(swigluFused64(gateUp, 4), swigluCpu(Float32Array.from(gate), Float32Array.from(up)))).toBeLessThan(1e-6);
  });
});

describe('swiglu backward on the GPU', () => {
  it('separate gate and up into a fused dGateUp (1 token, intermediate 7)', async () => {
    const ctx = await context();
    const gate = randomArray(7, 1, 5);
    const up = randomArray(7, 2, 2);
    const dOut = randomArray(7, 3);
    const dGateUp = ctx.createBuffer('dgu', 14 * 4, 'activations');
    run(ctx, (pass) =>
      encodeSwigluBackward(ctx, pass, {
        gate: ctx.upload('g', gate, 'activations'),
        up: ctx.upload('u', up, 'activations'),
        dOut: ctx.upload('d', dOut, 'activations'),
        dGateUp,
        tokens: 1,
        intermediate: 7,
      }),
    );
    const got = new Float32Array(await ctx.read(dGateUp, 14 * 4));
    expect(nmse(got, swigluBackwardCpu(gate, up, dOut, 7))).toBeLessThan(NMSE_BOUND);
  });

  it('fused input, into a separate buffer and in place (3 tokens, intermediate 300)', async () => {
    const ctx = await context();
    const tokens = 3;
    const inter = 300;
    const gateUp = randomArray(tokens * 2 * inter, 4, 6);
    const dOut = randomArray(tokens * inter, 5);
    const { gate, up } = splitGateUp(gateUp, inter);
    const expected = swigluBackwardCpu(gate, up, dOut, inter);
    const saved = ctx.upload('gu', gateUp, 'activations');
    const dOutBuf = ctx.upload('d', dOut, 'activations');
    const dGateUp = ctx.createBuffer('dgu', gateUp.length * 4, 'activations');
    run(ctx, (pass) => encodeSwigluBackward(ctx, pass, { gate: saved, dOut: dOutBuf, dGateUp, tokens, intermediate: inter }));
    expect(nmse(new Float32Array(await ctx.read(dGateUp, gateUp.length * 4)), expected)).toBeLessThan(NMSE_BOUND);
    expect(Array.from(new Float32Array(await ctx.read(saved, gateUp.length * 4)))).toEqual(Array.from(gateUp));
    run(ctx, (pass) => encodeSwigluBackward(ctx, pass, { gate: saved, dOut: dOutBuf, tokens, intermediate: inter }));
    expect(nmse(new Float32Array(await ctx.read(saved, gateUp.length * 4)), expected)).toBeLessThan(NMSE_BOUND);
  });

  it('stays finite and takes the limits for saturated gates', async () => {
    const ctx = await context();
    const gate = new Float32Array([-1e4, -100, -30, 0, 30, 100, 1e4]);
    const up = new Float32Array(7).fill(1.5);
    const dOut = new Float32Array(7).fill(2);
    const dGateUp = ctx.createBuffer('dgu', 14 * 4, 'activations');
    run(ctx, (pass) =>
      encodeSwigluBackward(ctx, pass, {
        gate: ctx.upload('g', gate, 'activations'),
        up: ctx.upload('u', up, 'activations'),
        dOut: ctx.upload('d', dOut, 'activations'),
        dGateUp,
        tokens: 1,
        intermediate: 7,
      }),
    );
    const got = new Float32Array(await ctx.read(dGateUp, 14 * 4));
    expect(got.every(Number.isFinite)).toBe(true);
    const expected = swigluBackwardCpu(gate, up, dOut, 7);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-3 * 2e4);
    // dGate: σ' vanishes at both ends, so silu' → 0 (g ≪ 0) and → 1 (g ≫ 0); dUp = 2·silu(g).
    expect(Math.abs(got[0])).toBeLessThan(1e-6);
    expect(got[6]).toBeCloseTo(3, 5);
    expect(got[3]).toBeCloseTo(1.5, 6); // silu'(0) = 1/2, times dOut·u = 3
    expect(got[7 + 6]).toBeCloseTo(2e4, 0);
  });

  it('rejects bad sizes and aliasing, naming the problem', async () => {
    const ctx = await context();
    const small = ctx.createBuffer('small', 6 * 4, 'scratch');
    const big = ctx.createBuffer('big', 40 * 4, 'scratch');
    const other = ctx.createBuffer('other', 40 * 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeSwigluBackward(ctx, pass, { gate: small, dOut: big, tokens: 2, intermediate: 2 })).toThrow(/fused gate\/up buffer holds fewer than 8/);
    expect(() => encodeSwigluBackward(ctx, pass, { gate: big, up: other, dOut: small, dGateUp: big, tokens: 2, intermediate: 4 })).toThrow(
      /dOut holds fewer than 8/,
    );
    expect(() => encodeSwigluBackward(ctx, pass, { gate: big, up: other, dOut: big, tokens: 2, intermediate: 2 })).toThrow(/in-place output needs the fused/);
    expect(() => encodeSwigluBackward(ctx, pass, { gate: big, dOut: other, dGateUp: small, tokens: 2, intermediate: 2 })).toThrow(/dGateUp holds fewer than 8/);
    expect(() => encodeSwigluBackward(ctx, pass, { gate: big, dOut: big, tokens: 2, intermediate: 2 })).toThrow(/separate buffers/);
    pass.end();
  });
});
