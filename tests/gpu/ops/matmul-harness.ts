// Shared setup for the matmul / LM head / embedding GPU tests: build a weight in a format, run one
// pass, read the result back, and report validation errors (a WGSL error otherwise shows up only as
// wrong numbers).
import { GpuContext } from '../../../src/engine/gpu/context';
import { packWeight, unpackWeight } from '../../../src/engine/quant/pack';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { uploadWeight, type GpuWeight, type WeightUploadOptions } from '../../../src/engine/weights';
import { getTestDevice } from '../../helpers/gpu';
import { randomArray } from '../../helpers/numeric';
import { encodeMatmul, matmulCpu, type MatmulKernel } from '../../../src/engine/ops/matmul';

export async function testContext(): Promise<GpuContext> {
  return new GpuContext((await getTestDevice()).device);
}

export interface TestWeight {
  gpu: GpuWeight;
  /** The f32 values before packing. */
  original: Float32Array;
  /** What the packed format represents exactly: the kernel's reference. */
  dequantized: Float32Array;
}

export function makeWeight(ctx: GpuContext, format: WeightFormat, rows: number, cols: number, seed: number, options: WeightUploadOptions = {}): TestWeight {
  const original = randomArray(rows * cols, seed, 0.5);
  const gpu = uploadWeight(ctx, `w${rows}x${cols}`, { shape: [rows, cols], values: original }, format, options);
  return { gpu, original, dequantized: unpackWeight(packWeight(original, rows, cols, format)) };
}

/** Records `encode` in one compute pass, submits, and reads `bytes` of `out` back. */
export async function runPass(ctx: GpuContext, out: GPUBuffer, bytes: number, encode: (pass: GPUComputePassEncoder) => void): Promise<Float32Array> {
  ctx.device.pushErrorScope('validation');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const error = await ctx.device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return new Float32Array(await ctx.read(out, bytes));
}

// Kernel vs CPU on the SAME (dequantized) weights: only f32 summation order differs. Each output is
// a K-term dot product (K ≤ 161) whose rounding error is ~√K·2^-24 of the terms' magnitude, so the
// NMSE is ~K·2^-48 ≈ 1e-12; the bound 1e-9 leaves room for cancellation while any indexing or
// decoding mistake gives an NMSE near 1.
export const KERNEL_NMSE = 1e-9;

export interface MatmulCase {
  m: number;
  n: number;
  k: number;
  bias?: boolean;
  kernel?: MatmulKernel;
}

// Odd shapes: M ∈ {1, 2, 3, 8, 17, 20, 70} (GEMV up to 8, tiled above, 70 spans two row tiles),
// N ∈ {1, 5, 9, 67, 130} (not multiples of the 4 GEMV columns or the 64-wide tiles),
// K ∈ {32, 96, 100, 161, 1000} (100, 161, 1000 are padded to whole groups of 32). Each (N, K) runs
// through both kernels; the tiled kernel's M is dynamic, so its pipelines are shared across M.
export const MATMUL_CASES: MatmulCase[] = [
  { m: 1, n: 5, k: 32 },
  { m: 3, n: 5, k: 32, kernel: 'tiled' },
  { m: 1, n: 67, k: 161, bias: true },
  { m: 17, n: 67, k: 161, bias: true },
  { m: 3, n: 130, k: 100 },
  { m: 70, n: 130, k: 100 },
  { m: 8, n: 1, k: 96 },
  { m: 17, n: 1, k: 96 },
  // Short K (3 blocks): 16 column groups share a GEMV workgroup; N ends mid-workgroup.
  { m: 5, n: 203, k: 24 },
  // Qwen-sized K: more 8-element blocks than GEMV threads, so each thread loops over K.
  { m: 2, n: 9, k: 1000, bias: true },
  { m: 20, n: 9, k: 1000, bias: true },
];

export async function checkMatmul(format: WeightFormat, c: MatmulCase, seed: number) {
  const ctx = await testContext();
  const w = makeWeight(ctx, format, c.n, c.k, seed);
  const x = randomArray(c.m * c.k, seed + 1);
  const bias = c.bias ? randomArray(c.n, seed + 2) : null;
  const y = ctx.createBuffer('y', c.m * c.n * 4, 'activations');
  const got = await runPass(ctx, y, c.m * c.n * 4, (pass) =>
    encodeMatmul(ctx, pass, {
      x: ctx.upload('x', x, 'activations'),
      weight: w.gpu,
      y,
      m: c.m,
      bias: bias ? ctx.upload('bias', bias, 'weights') : null,
      kernel: c.kernel,
    }),
  );
  const expected = matmulCpu(x, w.dequantized, c.m, c.n, c.k, { bias });
  return { got, expected, w, x, bias };
}
