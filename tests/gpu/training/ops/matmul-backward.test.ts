import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { encodeMatmulBackward, matmulBackwardCpu, type MatmulBackwardArgs } from '../../../../src/training/ops/matmul-backward';
import { dot, expectGradClose, finiteDifferenceGrad, randomFloat64 } from '../../../helpers/finite-difference';
import { getTestDevice } from '../../../helpers/gpu';
import { nmse, randomArray } from '../../../helpers/numeric';
import { makeWeight } from '../../ops/matmul-harness';

// One context per file, so its pipeline cache compiles each shader once (SwiftShader is slow).
let shared: Promise<GpuContext> | undefined;
function testContext(): Promise<GpuContext> {
  shared ??= getTestDevice().then(({ device }) => new GpuContext(device));
  return shared;
}

async function run(ctx: GpuContext, out: GPUBuffer, encode: (pass: GPUComputePassEncoder) => void): Promise<Float32Array> {
  ctx.device.pushErrorScope('validation');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const error = await ctx.device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return new Float32Array(await ctx.read(out));
}

/** float64 forward y[m, N] = x·Wᵀ for the finite-difference check. */
function forward64(x: Float64Array, w: Float64Array, m: number, n: number, k: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) for (let i = 0; i < k; i++) y[r * n + c] += x[r * k + i] * w[c * k + i];
  return y;
}

// GPU vs CPU on the same dequantized weight: each dX entry is an N-term (≤ 70) f32 dot product,
// NMSE ~1e-13; 1e-9 catches any decoding or indexing mistake.
const GPU_NMSE = 1e-9;

describe('matmul backward CPU reference', () => {
  it('dX = dY·W is the gradient of Σ g ⊙ (x·Wᵀ) (central differences)', () => {
    const [m, n, k] = [3, 4, 5];
    const w = randomFloat64(n * k, 1);
    const g = randomFloat64(m * n, 2);
    const x = randomFloat64(m * k, 3);
    expectGradClose(
      matmulBackwardCpu(g, w, m, n, k),
      finiteDifferenceGrad((xx) => dot(g, forward64(xx, w, m, n, k)), x),
    );
  });
});

// K = 100 is padded to 128 (quads beyond K are zero) and spans two 64-wide tiles; N = 37 is split
// into weight chunks of 16 rows (3 chunks, the last partial) so the chunk sum is exercised; M 1 and
// 67 (two row tiles).
describe.each(['f32', 'f16', 'q8', 'q4'] as const)('matmul backward with %s weights', (format) => {
  it.each([1, 67])('dX = dY·W over 3 weight chunks, M=%i', async (m) => {
    const ctx = await testContext();
    const [n, k] = [37, 100];
    const w = makeWeight(ctx, format, n, k, 40 + m, {
      maxChunkBytes: format === 'f32' ? 16 * 128 * 4 : format === 'f16' ? 16 * 128 * 2 : format === 'q8' ? 16 * 128 : 16 * 64,
    });
    expect(w.gpu.chunks.length).toBe(3);
    const dy = randomArray(m * n, 50 + m);
    const dx = ctx.upload('dx', randomArray(m * k, 60, 100), 'activations'); // overwritten
    const got = await run(ctx, dx, (pass) => encodeMatmulBackward(ctx, pass, { dy: ctx.upload('dy', dy, 'activations'), weight: w.gpu, dx, m }));
    expect(nmse(got, matmulBackwardCpu(dy, w.dequantized, m, n, k))).toBeLessThan(GPU_NMSE);
  });
});

describe('matmul backward options', () => {
  it('accumulates into dX and reads a strided, offset dY view', async () => {
    const ctx = await testContext();
    const [m, n, k, stride, offset] = [5, 37, 100, 50, 7];
    const w = makeWeight(ctx, 'q8', n, k, 71);
    const fused = randomArray(offset + m * stride, 72);
    const dyView = new Float32Array(m * n);
    for (let r = 0; r < m; r++) dyView.set(fused.subarray(offset + r * stride, offset + r * stride + n), r * n);
    const prior = randomArray(m * k, 73);
    const dx = ctx.upload('dx', prior, 'activations');
    const got = await run(ctx, dx, (pass) =>
      encodeMatmulBackward(ctx, pass, {
        dy: ctx.upload('dy', fused, 'activations'),
        dyRowStride: stride,
        dyOffset: offset,
        weight: w.gpu,
        dx,
        m,
        accumulate: true,
      }),
    );
    expect(nmse(got, matmulBackwardCpu(dyView, w.dequantized, m, n, k, prior))).toBeLessThan(GPU_NMSE);
  });

  it('binds a dY larger than maxChunkBytes in aligned row chunks (logits-style)', async () => {
    const ctx = await testContext();
    const [m, n, k, stride, offset] = [23, 37, 100, 45, 3];
    const w = makeWeight(ctx, 'f32', n, k, 81);
    const fused = randomArray(offset + m * stride, 82);
    const dyView = new Float32Array(m * n);
    for (let r = 0; r < m; r++) dyView.set(fused.subarray(offset + r * stride, offset + r * stride + n), r * n);
    const dx = ctx.createBuffer('dx', m * k * 4, 'activations');
    // 1024-byte bindings hold 4 rows of 180 bytes after the alignment slack: 6 row chunks, with
    // offsets that are not row-aligned (elementShift) and a dY offset on top.
    const args: MatmulBackwardArgs = {
      dy: ctx.upload('dy', fused, 'activations'),
      dyRowStride: stride,
      dyOffset: offset,
      weight: w.gpu,
      dx,
      m,
      maxChunkBytes: 1024,
    };
    const before = ctx.dispatchCount;
    const got = await run(ctx, dx, (pass) => encodeMatmulBackward(ctx, pass, args));
    expect(ctx.dispatchCount - before).toBeGreaterThan(4);
    expect(nmse(got, matmulBackwardCpu(dyView, w.dequantized, m, n, k))).toBeLessThan(GPU_NMSE);
  });

  it('rejects bad arguments with errors that name the weight', async () => {
    const ctx = await testContext();
    const w = makeWeight(ctx, 'f32', 37, 100, 91);
    const dy = ctx.createBuffer('dy', 2 * 37 * 4, 'activations');
    const dx = ctx.createBuffer('dx', 2 * 100 * 4, 'activations');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeMatmulBackward(ctx, pass, { dy, weight: w.gpu, dx, m: 3 })).toThrow(/matmulBackward\(w37x100\): dY holds 74 f32 values/);
    expect(() => encodeMatmulBackward(ctx, pass, { dy, weight: w.gpu, dx, m: 2, dyRowStride: 36 })).toThrow(/row stride 36 must be an integer ≥ N = 37/);
    expect(() => encodeMatmulBackward(ctx, pass, { dy, weight: w.gpu, dx: dy, m: 1 })).toThrow(/dX/);
    expect(() => encodeMatmulBackward(ctx, pass, { dy, weight: w.gpu, dx, m: 0 })).toThrow(/m = 0/);
    expect(() => encodeMatmulBackward(ctx, pass, { dy, weight: w.gpu, dx, m: 2, maxChunkBytes: 300 })).toThrow(
      /matmulBackward\(w37x100\): dY a row of 37 f32 values .* does not fit a/,
    );
    pass.end();
    encoder.finish();
  });
});
