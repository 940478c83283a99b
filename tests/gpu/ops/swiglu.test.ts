import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { encodeSwiglu, swigluCpu } from '../../../src/engine/ops/swiglu';
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

async function runSwiglu(ctx: GpuContext, tokens: number, intermediate: number, gate: Float32Array, up: Float32Array, fused: boolean) {
  const out = ctx.createBuffer('out', tokens * intermediate * 4, 'activations');
  let gateBuf: GPUBuffer;
  let upBuf: GPUBuffer | undefined;
  if (fused) {
    const both = new Float32Array(tokens * 2 * intermediate);
    for (let t = 0; t < tokens; t++) {
      both.set(gate.subarray(t * intermediate, (t + 1) * intermediate), t * 2 * intermediate);
      both.set(up.subarray(t * intermediate, (t + 1) * intermediate), t * 2 * intermediate + intermediate);
    }
    gateBuf = ctx.upload('gate_up', both, 'activations');
  } else {
    gateBuf = ctx.upload('gate', gate, 'activations');
    upBuf = ctx.upload('up', up, 'activations');
  }
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeSwiglu(ctx, pass, { gate: gateBuf, up: upBuf, out, tokens, intermediate });
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return new Float32Array(await ctx.read(out, tokens * intermediate * 4));
}

// exp has a few-ULP error bound in WGSL and the division one more; relative error per value stays
// around 1e-6, so NMSE is below 1e-11. The bound leaves margin for SwiftShader's exp.
const NMSE_BOUND = 1e-10;

describe('swiglu', () => {
  it.each([
    [1, 7, false],
    [3, 257, false],
    [1, 7, true],
    [4, 301, true],
  ])('matches the CPU reference for %i tokens × %i (fused=%s)', async (tokens, intermediate, fused) => {
    const ctx = await context();
    const gate = randomArray(tokens * intermediate, 3 + intermediate, 6);
    const up = randomArray(tokens * intermediate, 4 + intermediate, 2);
    const got = await runSwiglu(ctx, tokens, intermediate, gate, up, fused);
    expect(nmse(got, swigluCpu(gate, up))).toBeLessThan(NMSE_BOUND);
  });

  it('stays finite for extreme gate values (silu(-100) ≈ 0, silu(100) ≈ 100)', async () => {
    const ctx = await context();
    const gate = new Float32Array([-100, 100, -1e30, 0, 88.8]);
    const up = new Float32Array([1, 1, 1, 5, 1]);
    const got = await runSwiglu(ctx, 1, 5, gate, up, false);
    expect(Array.from(got).every(Number.isFinite)).toBe(true);
    expect(Math.abs(got[0])).toBeLessThan(1e-30);
    expect(got[1]).toBeCloseTo(100, 4);
    expect(got[3]).toBe(0);
  });

  it('rejects a short fused buffer, naming the layout', async () => {
    const ctx = await context();
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const small = ctx.createBuffer('gate', 10 * 4, 'scratch');
    const out = ctx.createBuffer('out', 10 * 4, 'scratch');
    expect(() => encodeSwiglu(ctx, pass, { gate: small, out, tokens: 2, intermediate: 5 })).toThrow(/fused gate\/up buffer holds fewer than 20/);
    pass.end();
  });
});
