import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import {
  encodeLoraBackward,
  encodeLoraForward,
  loraBackwardCpu,
  loraForwardCpu,
  type LoraCpuWeights,
  type LoraModuleBuffers,
} from '../../../../src/engine/ops/lora';
import { encodeMatmul, matmulCpu } from '../../../../src/engine/ops/matmul';
import { uploadWeight } from '../../../../src/engine/weights';
import { LORA_TARGETS, loraTargetLayout } from '../../../../src/engine/ops/lora-targets';
import { dot, expectGradClose, finiteDifferenceGrad, randomFloat64 } from '../../../helpers/finite-difference';
import { getTestDevice } from '../../../helpers/gpu';
import { nmse, randomArray } from '../../../helpers/numeric';

// One context per file, so its pipeline cache compiles each shader once (SwiftShader is slow).
let shared: Promise<GpuContext> | undefined;
function testContext(): Promise<GpuContext> {
  shared ??= getTestDevice().then(({ device }) => new GpuContext(device));
  return shared;
}

/** Records `encode` in one pass, submits, reports validation errors, reads the buffers back. */
async function run(ctx: GpuContext, encode: (pass: GPUComputePassEncoder) => void, outputs: GPUBuffer[]): Promise<Float32Array[]> {
  ctx.device.pushErrorScope('validation');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const error = await ctx.device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return Promise.all(outputs.map(async (b) => new Float32Array(await ctx.read(b))));
}

/** Rows of a [rows, stride] matrix, columns [offset, offset + n): the module's view. */
function slice(values: Float32Array, rows: number, stride: number, offset: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * stride + offset, r * stride + offset + n), r * n);
  return out;
}

function weights(rank: number, k: number, n: number, seed: number, scaling: number): LoraCpuWeights & { a: Float32Array; b: Float32Array } {
  return { a: randomArray(rank * k, seed, 0.3), b: randomArray(n * rank, seed + 1, 0.3), rank, inFeatures: k, outFeatures: n, scaling };
}

function upload(ctx: GpuContext, w: LoraCpuWeights & { a: Float32Array; b: Float32Array }, name = 'q'): LoraModuleBuffers {
  return {
    name,
    a: ctx.upload('A', w.a, 'lora'),
    b: ctx.upload('B', w.b, 'lora'),
    rank: w.rank,
    inFeatures: w.inFeatures,
    outFeatures: w.outFeatures,
    scaling: w.scaling,
  };
}

// GPU (f32, tiled) vs CPU (float64) on the same inputs: each output is a sum of at most ~200
// products of O(0.1–1) values, so f32 rounding gives NMSE ~1e-13; 1e-9 still catches any indexing
// mistake (which gives NMSE ~1).
const GPU_NMSE = 1e-9;

describe('LoRA CPU reference: finite differences', () => {
  it('dA, dB and dX of L = Σ g ⊙ (s·(x·Aᵀ)·Bᵀ) match central differences', () => {
    const [m, k, n, r, s] = [3, 5, 4, 2, 1.75];
    const x = randomFloat64(m * k, 1);
    const a = randomFloat64(r * k, 2);
    const b = randomFloat64(n * r, 3);
    const g = randomFloat64(m * n, 4);
    const w = (aa: Float64Array, bb: Float64Array) => ({ a: aa, b: bb, rank: r, inFeatures: k, outFeatures: n, scaling: s });
    const analytic = loraBackwardCpu(w(a, b), x, g, m);
    expectGradClose(
      analytic.dA,
      finiteDifferenceGrad((aa) => dot(g, loraForwardCpu(w(aa, b), x, m).delta), a),
    );
    expectGradClose(
      analytic.dB,
      finiteDifferenceGrad((bb) => dot(g, loraForwardCpu(w(a, bb), x, m).delta), b),
    );
    expectGradClose(
      analytic.dx,
      finiteDifferenceGrad((xx) => dot(g, loraForwardCpu(w(a, b), xx, m).delta), x),
    );
  });
});

// Fused output like qkv: this module owns columns [colOffset, colOffset + N) of rows `stride` wide.
// M 1 / 5 / 67 (67 spans two 64-row tiles), K 45 / 131 (over two 64-wide tiles in dA/dX and
// several 16-steps of the reduction), N 23 / 70 / 9, r 3 / 8 / 4; nothing is a multiple of a tile.
const CASES = [
  { m: 1, k: 45, n: 23, r: 3, stride: 61, colOffset: 17 },
  { m: 5, k: 45, n: 23, r: 8, stride: 23, colOffset: 0 },
  { m: 67, k: 131, n: 70, r: 3, stride: 99, colOffset: 29 },
  // Qwen-like long reduction (K = 1000: 63 steps of 16) with the slice at the end of the row.
  { m: 3, k: 1000, n: 9, r: 4, stride: 20, colOffset: 11 },
];

describe('LoRA forward on the GPU', () => {
  it.each(CASES)('adds s·(x·Aᵀ)·Bᵀ into a column slice and saves u: M=$m K=$k N=$n r=$r', async (c) => {
    const ctx = await testContext();
    const w = weights(c.r, c.k, c.n, c.m + c.k, 1.5);
    const x = randomArray(c.m * c.k, 7);
    const yBefore = randomArray(c.m * c.stride, 8);
    const y = ctx.upload('y', yBefore, 'activations');
    const u = ctx.createBuffer('u', c.m * c.r * 4, 'activations');
    const [yAfter, uGot] = await run(
      ctx,
      (pass) =>
        encodeLoraForward(ctx, pass, {
          lora: upload(ctx, w),
          x: ctx.upload('x', x, 'activations'),
          m: c.m,
          u,
          y,
          ySlice: { rowStride: c.stride, colOffset: c.colOffset },
        }),
      [y, u],
    );
    const want = loraForwardCpu(w, x, c.m);
    expect(nmse(uGot, want.u)).toBeLessThan(GPU_NMSE);
    const added = slice(yAfter, c.m, c.stride, c.colOffset, c.n).map((v, i) => v - slice(yBefore, c.m, c.stride, c.colOffset, c.n)[i]);
    expect(nmse(added, want.delta)).toBeLessThan(GPU_NMSE);
    // Columns outside the slice are untouched, bit for bit.
    for (let row = 0; row < c.m; row++) {
      for (let col = 0; col < c.stride; col++) {
        if (col >= c.colOffset && col < c.colOffset + c.n) continue;
        expect(yAfter[row * c.stride + col]).toBe(yBefore[row * c.stride + col]);
      }
    }
  });

  it('reads x rows at an offset and stride (like encodeMatmul xRows)', async () => {
    const ctx = await testContext();
    const [m, k, n, r] = [3, 45, 23, 3];
    const w = weights(r, k, n, 5, 2);
    const xAll = randomArray(9 * k, 9);
    const picked = new Float32Array(m * k);
    for (let i = 0; i < m; i++) picked.set(xAll.subarray((2 + 3 * i) * k, (3 + 3 * i) * k), i * k);
    const y = ctx.createBuffer('y', m * n * 4, 'activations');
    const u = ctx.createBuffer('u', m * r * 4, 'activations');
    const [yGot] = await run(
      ctx,
      (pass) => encodeLoraForward(ctx, pass, { lora: upload(ctx, w), x: ctx.upload('x', xAll, 'activations'), xRows: { offset: 2, stride: 3 }, m, u, y }),
      [y],
    );
    expect(nmse(yGot, loraForwardCpu(w, picked, m).delta)).toBeLessThan(GPU_NMSE);
  });
});

describe('LoRA backward on the GPU', () => {
  it.each(CASES)('accumulates dA, dB, dX and writes du: M=$m K=$k N=$n r=$r', async (c) => {
    const ctx = await testContext();
    const w = weights(c.r, c.k, c.n, 3 * c.m + c.k, 0.5);
    const x = randomArray(c.m * c.k, 11);
    const dyFused = randomArray(c.m * c.stride, 12);
    const prior = { dA: randomArray(c.r * c.k, 13), dB: randomArray(c.n * c.r, 14), dx: randomArray(c.m * c.k, 15) };
    const want = loraBackwardCpu(w, x, slice(dyFused, c.m, c.stride, c.colOffset, c.n), c.m);
    const lora = upload(ctx, w);
    const xBuf = ctx.upload('x', x, 'activations');
    const u = ctx.createBuffer('u', c.m * c.r * 4, 'activations');
    const scratchY = ctx.createBuffer('y', c.m * c.n * 4, 'activations');
    const du = ctx.createBuffer('du', c.m * c.r * 4, 'scratch');
    const dA = ctx.upload('dA', prior.dA, 'lora');
    const dB = ctx.upload('dB', prior.dB, 'lora');
    const dx = ctx.upload('dx', prior.dx, 'activations');
    const [dAGot, dBGot, duGot, dxGot] = await run(
      ctx,
      (pass) => {
        encodeLoraForward(ctx, pass, { lora, x: xBuf, m: c.m, u, y: scratchY }); // produces the saved u
        encodeLoraBackward(ctx, pass, {
          lora,
          dy: ctx.upload('dy', dyFused, 'activations'),
          dySlice: { rowStride: c.stride, colOffset: c.colOffset },
          x: xBuf,
          u,
          m: c.m,
          du,
          dA,
          dB,
          dx,
        });
      },
      [dA, dB, du, dx],
    );
    const added = (got: Float32Array, before: Float32Array) => got.map((v, i) => v - before[i]);
    expect(nmse(added(dAGot, prior.dA), want.dA)).toBeLessThan(GPU_NMSE);
    expect(nmse(added(dBGot, prior.dB), want.dB)).toBeLessThan(GPU_NMSE);
    expect(nmse(duGot, want.du)).toBeLessThan(GPU_NMSE);
    expect(nmse(added(dxGot, prior.dx), want.dx)).toBeLessThan(GPU_NMSE);
  });

  it('overwrites dX when dxAccumulate is false, and skips dX when none is given', async () => {
    const ctx = await testContext();
    const [m, k, n, r] = [5, 45, 23, 8];
    const w = weights(r, k, n, 21, 2);
    const x = randomArray(m * k, 22);
    const dy = randomArray(m * n, 23);
    const want = loraBackwardCpu(w, x, dy, m);
    const lora = upload(ctx, w);
    const xBuf = ctx.upload('x', x, 'activations');
    const dyBuf = ctx.upload('dy', dy, 'activations');
    const u = ctx.upload('u', Float32Array.from(loraForwardCpu(w, x, m).u), 'activations');
    const make = () => ({
      du: ctx.createBuffer('du', m * r * 4, 'scratch'),
      dA: ctx.createBuffer('dA', r * k * 4, 'lora'),
      dB: ctx.createBuffer('dB', n * r * 4, 'lora'),
    });
    const dx = ctx.upload('dx', randomArray(m * k, 24, 100), 'activations');
    const first = make();
    const second = make();
    const [dxGot, dASkipped] = await run(
      ctx,
      (pass) => {
        encodeLoraBackward(ctx, pass, { lora, dy: dyBuf, x: xBuf, u, m, ...first, dx, dxAccumulate: false });
        encodeLoraBackward(ctx, pass, { lora, dy: dyBuf, x: xBuf, u, m, ...second, dx: null });
      },
      [dx, second.dA],
    );
    expect(nmse(dxGot, want.dx)).toBeLessThan(GPU_NMSE);
    expect(nmse(dASkipped, want.dA)).toBeLessThan(GPU_NMSE);
  });

  it('rejects bad shapes and aliasing with errors that name the module', async () => {
    const ctx = await testContext();
    const w = weights(3, 45, 23, 31, 1);
    const lora = upload(ctx, w, 'layers.0.q_proj');
    const x = ctx.createBuffer('x', 2 * 45 * 4, 'activations');
    const u = ctx.createBuffer('u', 2 * 3 * 4, 'activations');
    const y = ctx.createBuffer('y', 2 * 23 * 4, 'activations');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeLoraForward(ctx, pass, { lora, x, m: 3, u, y })).toThrow(/lora\(layers\.0\.q_proj\).*x holds 90/);
    expect(() => encodeLoraForward(ctx, pass, { lora, x, m: 2, u, y, ySlice: { rowStride: 23, colOffset: 1 } })).toThrow(
      /y columns 1\.\.24 exceed its row stride 23/,
    );
    expect(() => encodeLoraForward(ctx, pass, { lora: { ...lora, rank: 0 }, x, m: 2, u, y })).toThrow(/rank must be a positive integer/);
    expect(() => encodeLoraForward(ctx, pass, { lora: { ...lora, scaling: NaN }, x, m: 2, u, y })).toThrow(/scaling must be finite/);
    expect(() => encodeLoraBackward(ctx, pass, { lora, dy: y, x, u, m: 2, du: u, dA: lora.a, dB: lora.b })).toThrow(/du scratch buffer must differ from u/);
    pass.end();
    encoder.finish();
  });
});

describe('LoRA target layouts in the fused outputs', () => {
  const config = { hiddenSize: 40, intermediateSize: 27, numHeads: 4, numKvHeads: 2, headDim: 6 };

  it('q/k/v tile the qkv row and gate/up the gateUp row exactly, in that order', () => {
    const byOutput = new Map<string, { from: number; to: number; stride: number }[]>();
    for (const target of LORA_TARGETS) {
      const t = loraTargetLayout(config, target);
      const list = byOutput.get(t.output) ?? [];
      list.push({ from: t.slice.colOffset, to: t.slice.colOffset + t.outFeatures, stride: t.slice.rowStride });
      byOutput.set(t.output, list);
    }
    expect(byOutput.get('qkv')).toEqual([
      { from: 0, to: 24, stride: 48 },
      { from: 24, to: 36, stride: 48 },
      { from: 36, to: 48, stride: 48 },
    ]);
    expect(byOutput.get('gateUp')).toEqual([
      { from: 0, to: 27, stride: 54 },
      { from: 27, to: 54, stride: 54 },
    ]);
    expect(byOutput.get('residual')).toEqual([
      { from: 0, to: 40, stride: 40 },
      { from: 0, to: 40, stride: 40 },
    ]);
    expect(loraTargetLayout(config, 'o_proj').inFeatures).toBe(24);
    expect(loraTargetLayout(config, 'down_proj').inFeatures).toBe(27);
    expect(() => loraTargetLayout(config, 'qkv_proj' as never)).toThrow(/unknown target module 'qkv_proj'/);
  });

  it('fused qkv matmul + q/k/v LoRA in one pass equals three separate PEFT Linears', async () => {
    const ctx = await testContext();
    const m = 5;
    const H = config.hiddenSize;
    const x = randomArray(m * H, 41);
    const targets = ['q_proj', 'k_proj', 'v_proj'] as const;
    const modules = targets.map((target, i) => {
      const t = loraTargetLayout(config, target);
      return { t, w: weights(4, H, t.outFeatures, 50 + 2 * i, 2), base: randomArray(t.outFeatures * H, 60 + i, 0.3) };
    });
    const width = modules[0].t.slice.rowStride;
    const fusedW = new Float32Array(width * H);
    for (const { t, base } of modules) fusedW.set(base, t.slice.colOffset * H);
    const weight = uploadWeight(ctx, 'qkv', { shape: [width, H], values: fusedW }, 'f32');
    const xBuf = ctx.upload('x', x, 'activations');
    const y = ctx.createBuffer('qkv', m * width * 4, 'activations');
    const [got] = await run(
      ctx,
      (pass) => {
        encodeMatmul(ctx, pass, { x: xBuf, weight, y, m });
        for (const { t, w } of modules) {
          encodeLoraForward(ctx, pass, { lora: upload(ctx, w), x: xBuf, m, u: ctx.createBuffer('u', m * 4 * 4, 'activations'), y, ySlice: t.slice });
        }
      },
      [y],
    );
    for (const { t, w, base } of modules) {
      const delta = loraForwardCpu(w, x, m).delta;
      const want = matmulCpu(x, base, m, t.outFeatures, H).map((v, i) => v + delta[i]);
      expect(nmse(slice(got, m, width, t.slice.colOffset, t.outFeatures), want)).toBeLessThan(GPU_NMSE);
    }
  });
});
