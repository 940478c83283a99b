// uploadWeight from the model loader's raw tensor bytes (F32 / F16 / BF16) into each format,
// checked through the GEMV kernel, plus its error messages.
import { describe, expect, it } from 'vitest';
import { fromFloat32, toFloat32, type TensorDtype } from '../../../src/hf-io/dtypes';
import { encodeMatmul, matmulCpu } from '../../../src/engine/ops/matmul';
import { gemvWgsl } from '../../../src/engine/ops/matmul-gemv';
import { tiledWgsl } from '../../../src/engine/ops/matmul-tiled';
import { matmulBackwardWgsl } from '../../../src/training/ops/matmul-backward';
import { embeddingWgsl } from '../../../src/engine/ops/embedding';
import { packWeight, unpackWeight } from '../../../src/engine/quant/pack';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { destroyWeight, rowsPerChunk, uploadWeight } from '../../../src/engine/weights';
import { nmse, randomArray } from '../../helpers/numeric';
import { KERNEL_NMSE, runPass, testContext } from './matmul-harness';

describe('uploadWeight from tensor bytes', () => {
  it.each([
    ['F32', 'f32', 64], // direct copy
    ['F16', 'f16', 64], // direct copy
    ['F16', 'f16', 50], // padded: converted
    ['BF16', 'q4', 64],
    ['BF16', 'f16', 64],
    ['F16', 'q8', 50],
  ] as const)('%s bytes → %s weight (K=%i), in 3 chunks', async (dtype: TensorDtype, format: WeightFormat, k: number) => {
    const ctx = await testContext();
    const n = 9;
    // Offset the bytes by 2 inside a larger buffer: loaders hand out unaligned subarrays.
    const raw = fromFloat32(randomArray(n * k, 71), dtype);
    const holder = new Uint8Array(raw.byteLength + 2);
    holder.set(raw, 2);
    const bytes = holder.subarray(2);
    const maxChunkBytes = rowsPerChunkBytes(format, k, 3);
    const weight = uploadWeight(ctx, 'model.layers.0.self_attn.q_proj.weight', { dtype, shape: [n, k], bytes }, format, { maxChunkBytes });
    expect(weight.chunks.length).toBe(3);
    const values = unpackWeight(packWeight(toFloat32(raw, dtype), n, k, format));
    const x = randomArray(2 * k, 72);
    const y = ctx.createBuffer('y', 2 * n * 4, 'activations');
    const got = await runPass(ctx, y, 2 * n * 4, (pass) => encodeMatmul(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight, y, m: 2 }));
    expect(nmse(got, matmulCpu(x, values, 2, n, k))).toBeLessThan(KERNEL_NMSE);
    const before = ctx.memoryReport().weights;
    destroyWeight(ctx, weight);
    expect(ctx.memoryReport().weights).toBe(before - weight.byteLength);
  });

  it('names the tensor in every upload error', async () => {
    const ctx = await testContext();
    const bytes = new Uint8Array(10);
    expect(() => uploadWeight(ctx, 'lm_head.weight', { dtype: 'F16', shape: [2, 3], bytes }, 'q4')).toThrow(
      /lm_head\.weight: 10 bytes do not match F16 shape \[2, 3\] \(12 bytes\)/,
    );
    expect(() => uploadWeight(ctx, 'norm.weight', { dtype: 'F32', shape: [896], bytes }, 'f32')).toThrow(
      /norm\.weight: expected a 2-D weight \[rows, cols\], got shape \[896\]/,
    );
    expect(() => uploadWeight(ctx, 'w', { dtype: 'F64' as TensorDtype, shape: [1, 1], bytes }, 'f32')).toThrow(/w: unsupported dtype 'F64'/);
    expect(() => uploadWeight(ctx, 'w', { shape: [1, 4], values: new Float32Array(4) }, 'q3' as WeightFormat)).toThrow(/w: unknown weight format 'q3'/);
    expect(() => uploadWeight(ctx, 'w', { shape: [1, 4096], values: new Float32Array(4096) }, 'f32', { maxChunkBytes: 1024 })).toThrow(
      /w: one f32 row of 4096 columns exceeds the 1024-byte buffer limit/,
    );
  });
});

/** A chunk limit that holds exactly `rows` rows of this format. */
function rowsPerChunkBytes(format: WeightFormat, cols: number, rows: number): number {
  let bytes = 1;
  while (rowsPerChunk(format, cols, bytes) < rows) bytes++;
  return bytes;
}

describe('shader-f16 variant selection', () => {
  // SwiftShader has no shader-f16, so the native-f16 variant only runs on real GPUs (where every
  // test above exercises it, since ctx.shaderF16 is then true). Here: it is generated exactly when
  // asked for, as a valid module opening, and only for f16 weights.
  const sources = (format: WeightFormat, shaderF16: boolean) => [
    gemvWgsl({ format, k: 96, n: 5, hasBias: true, accumulate: false, indexedRows: false, shaderF16 }, 1),
    tiledWgsl({ format, k: 96, n: 5, hasBias: false, accumulate: true, indexedRows: true, shaderF16 }),
    embeddingWgsl({ format, cols: 96 }, shaderF16),
    matmulBackwardWgsl(format, 96, shaderF16),
  ];
  it('uses `enable f16` and vec4<f16> loads for f16 weights only when the device has shader-f16', () => {
    for (const source of sources('f16', true)) {
      expect(source.trimStart().startsWith('enable f16;')).toBe(true);
      expect(source).toContain('array<vec4<f16>>');
    }
    for (const source of [...sources('f16', false), ...sources('q4', true), ...sources('q8', true), ...sources('f32', true)]) {
      expect(source).not.toContain('enable f16');
      expect(source).not.toMatch(/\bf16>/);
    }
  });
});
