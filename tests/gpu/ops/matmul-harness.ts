// Shared setup for the matmul / LM head / embedding GPU tests: build a weight in a format, run one
// pass, read the result back, and report validation errors (a WGSL error otherwise shows up only as
// wrong numbers).
import { GpuContext } from '../../../src/engine/gpu/context';
import { packWeight, unpackWeight } from '../../../src/engine/quant/pack';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { uploadWeight, type GpuWeight, type WeightUploadOptions } from '../../../src/engine/weights';
import { getTestDevice } from '../../helpers/gpu';
import { randomArray } from '../../helpers/numeric';

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
