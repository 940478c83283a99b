// Matmul options: accumulate, row chunks, pre-packed uploads, x row selection, partial GEMV row
// capacity, and shape errors.
import { describe, expect, it } from 'vitest';
import { encodeMatmul, matmulCpu } from '../../../src/engine/ops/matmul';
import { packWeight, unpackWeight } from '../../../src/engine/quant/pack';
import { uploadPackedWeight } from '../../../src/engine/weights';
import { nmse, randomArray } from '../../helpers/numeric';
import { KERNEL_NMSE, makeWeight, runPass, testContext } from './matmul-harness';

describe('matmul options', () => {
  it.each(['gemv', 'tiled'] as const)('accumulates into y with the %s kernel', async (kernel) => {
    const ctx = await testContext();
    const [m, n, k] = [3, 67, 100];
    const w = makeWeight(ctx, 'q4', n, k, 11);
    const x = randomArray(m * k, 12);
    const prior = randomArray(m * n, 13);
    const bias = randomArray(n, 14);
    const y = ctx.upload('y', prior, 'activations');
    const got = await runPass(ctx, y, m * n * 4, (pass) =>
      encodeMatmul(ctx, pass, {
        x: ctx.upload('x', x, 'activations'),
        weight: w.gpu,
        y,
        m,
        bias: ctx.upload('b', bias, 'weights'),
        accumulate: true,
        kernel,
      }),
    );
    expect(nmse(got, matmulCpu(x, w.dequantized, m, n, k, { bias, into: prior }))).toBeLessThan(KERNEL_NMSE);
  });

  // Chunked weights: a tiny chunk limit splits N into many row chunks, each writing its own
  // columns of y. K = 96 has 3 groups per row, so chunks start at odd scale indices.
  it.each([
    ['q4', 1],
    ['q4', 17],
    ['q8', 3],
    ['f16', 1],
    ['f32', 17],
  ] as const)('splits a %s weight into row chunks (M=%i)', async (format, m) => {
    const ctx = await testContext();
    const [n, k] = [67, 96];
    const w = makeWeight(ctx, format, n, k, 21, { maxChunkBytes: (7 * 96 * 4) / (format === 'f32' ? 1 : format === 'f16' ? 2 : format === 'q8' ? 4 : 8) });
    expect(w.gpu.chunks.length).toBe(10); // 7 rows per chunk
    const x = randomArray(m * k, 22);
    const bias = randomArray(n, 23);
    const y = ctx.createBuffer('y', m * n * 4, 'activations');
    const got = await runPass(ctx, y, m * n * 4, (pass) =>
      encodeMatmul(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight: w.gpu, y, m, bias: ctx.upload('b', bias, 'weights') }),
    );
    expect(nmse(got, matmulCpu(x, w.dequantized, m, n, k, { bias }))).toBeLessThan(KERNEL_NMSE);
  });

  it('uploads a pre-packed q4 weight in chunks that split the scale words', async () => {
    const ctx = await testContext();
    const [m, n, k] = [1, 67, 96];
    const original = randomArray(n * k, 31);
    const packed = packWeight(original, n, k, 'q4');
    const weight = uploadPackedWeight(ctx, 'prepacked', packed, { maxChunkBytes: 7 * 12 * 4 });
    expect(weight.chunks.map((c) => c.rowStart).slice(0, 3)).toEqual([0, 7, 14]);
    const dequantized = unpackWeight(packed);
    const x = randomArray(m * k, 32);
    const y = ctx.createBuffer('y', m * n * 4, 'activations');
    const got = await runPass(ctx, y, m * n * 4, (pass) => encodeMatmul(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight, y, m }));
    expect(nmse(got, matmulCpu(x, dequantized, m, n, k))).toBeLessThan(KERNEL_NMSE);
  });

  it('picks x rows by offset/stride and by an index buffer', async () => {
    const ctx = await testContext();
    const [rowsInX, n, k] = [12, 5, 100];
    const w = makeWeight(ctx, 'q8', n, k, 41);
    const x = randomArray(rowsInX * k, 42);
    const xBuf = ctx.upload('x', x, 'activations');
    for (const kernel of ['gemv', 'tiled'] as const) {
      const y1 = ctx.createBuffer('y1', 3 * n * 4, 'activations');
      const strided = await runPass(ctx, y1, 3 * n * 4, (pass) =>
        encodeMatmul(ctx, pass, { x: xBuf, weight: w.gpu, y: y1, m: 3, xRows: { offset: 3, stride: 4 }, kernel }),
      );
      expect(nmse(strided, matmulCpu(x, w.dequantized, 3, n, k, { xRows: [3, 7, 11] })), kernel).toBeLessThan(KERNEL_NMSE);
      const rows = [10, 0, 4, 4];
      const y2 = ctx.createBuffer('y2', rows.length * n * 4, 'activations');
      const indexed = await runPass(ctx, y2, rows.length * n * 4, (pass) =>
        encodeMatmul(ctx, pass, {
          x: xBuf,
          weight: w.gpu,
          y: y2,
          m: rows.length,
          xRows: { indices: ctx.upload('rows', new Uint32Array(rows), 'scratch') },
          kernel,
        }),
      );
      expect(nmse(indexed, matmulCpu(x, w.dequantized, rows.length, n, k, { xRows: rows })), kernel).toBeLessThan(KERNEL_NMSE);
    }
  });

  // GEMV pipelines are built for 1, 2, 4 or 8 rows; a call with fewer rows must not write the rest.
  it.each([
    [3, 'gemv'],
    [5, 'gemv'],
    [17, 'tiled'],
  ] as const)('writes only the M=%i rows asked for (%s)', async (m, kernel) => {
    const ctx = await testContext();
    const [n, k] = [5, 32];
    const w = makeWeight(ctx, 'f32', n, k, 81);
    const x = randomArray(24 * k, 82);
    const sentinel = 12345;
    const y = ctx.upload('y', new Float32Array(24 * n).fill(sentinel), 'activations');
    const got = await runPass(ctx, y, 24 * n * 4, (pass) => encodeMatmul(ctx, pass, { x: ctx.upload('x', x, 'activations'), weight: w.gpu, y, m, kernel }));
    expect(nmse(got.subarray(0, m * n), matmulCpu(x, w.dequantized, m, n, k))).toBeLessThan(KERNEL_NMSE);
    expect(got.subarray(m * n).every((v) => v === sentinel)).toBe(true);
  });

  it('rejects buffers too small for the shapes, naming the weight', async () => {
    const ctx = await testContext();
    const w = makeWeight(ctx, 'f16', 5, 32, 51);
    const x = ctx.createBuffer('x', 2 * 32 * 4, 'activations');
    const y = ctx.createBuffer('y', 2 * 5 * 4, 'activations');
    const pass = ctx.device.createCommandEncoder().beginComputePass();
    expect(() => encodeMatmul(ctx, pass, { x, weight: w.gpu, y, m: 3 })).toThrow(/matmul\(w5x32\): y holds 40 bytes/);
    expect(() => encodeMatmul(ctx, pass, { x, weight: w.gpu, y, m: 2, xRows: { offset: 1, stride: 1 } })).toThrow(/x holds 256 bytes, needs row 2/);
    expect(() => encodeMatmul(ctx, pass, { x, weight: w.gpu, y, m: 2, bias: ctx.createBuffer('b', 8, 'weights') })).toThrow(/bias holds 8 bytes/);
    pass.end();
  });
});
