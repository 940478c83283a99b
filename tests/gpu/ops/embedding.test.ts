import { describe, expect, it } from 'vitest';
import { embeddingCpu, encodeEmbedding } from '../../../src/engine/ops/embedding';
import { WEIGHT_FORMATS } from '../../../src/engine/quant/formats';
import { maxAbsDiff } from '../../helpers/numeric';
import { makeWeight, runPass, testContext } from './matmul-harness';

// A gather copies dequantized values: the GPU decodes q·scale with the same f32 product as the CPU
// reference (and f16/f32 exactly), so results must match bit for bit (max abs diff 0).
describe.each(WEIGHT_FORMATS)('embedding gather from a %s table', (format) => {
  it.each([
    { vocab: 37, hidden: 32, ids: [5] },
    { vocab: 37, hidden: 100, ids: [0, 36, 5, 5, 17] },
    { vocab: 11, hidden: 161, ids: [10, 3, 0] },
  ])('matches the CPU reference for vocab=$vocab hidden=$hidden ids=$ids', async ({ vocab, hidden, ids }) => {
    const ctx = await testContext();
    const table = makeWeight(ctx, format, vocab, hidden, vocab * hidden);
    const out = ctx.createBuffer('out', ids.length * hidden * 4, 'activations');
    const got = await runPass(ctx, out, ids.length * hidden * 4, (pass) =>
      encodeEmbedding(ctx, pass, {
        ids: ctx.upload('ids', new Uint32Array(ids), 'scratch'),
        table: table.gpu,
        out,
        count: ids.length,
      }),
    );
    expect(maxAbsDiff(got, embeddingCpu(table.dequantized, vocab, hidden, ids))).toBe(0);
  });
});

describe('embedding gather edge cases', () => {
  it.each(['q4', 'f32'] as const)('gathers from a %s table split into vocabulary chunks, zeroing ids ≥ vocab', async (format) => {
    const ctx = await testContext();
    const [vocab, hidden] = [37, 96];
    const rowBytes = format === 'q4' ? 48 : 384;
    const table = makeWeight(ctx, format, vocab, hidden, 3, { maxChunkBytes: 5 * rowBytes });
    expect(table.gpu.chunks.length).toBe(8); // 5 rows each, the last holds 2
    const ids = [36, 0, 5, 4, 37, 1000, 20, 35];
    const out = ctx.upload('out', new Float32Array(ids.length * hidden).fill(9), 'activations');
    const got = await runPass(ctx, out, ids.length * hidden * 4, (pass) =>
      encodeEmbedding(ctx, pass, {
        ids: ctx.upload('ids', new Uint32Array(ids), 'scratch'),
        table: table.gpu,
        out,
        count: ids.length,
      }),
    );
    expect(maxAbsDiff(got, embeddingCpu(table.dequantized, vocab, hidden, ids))).toBe(0);
  });

  it('rejects an output buffer too small for the tokens', async () => {
    const ctx = await testContext();
    const table = makeWeight(ctx, 'f16', 7, 32, 4);
    const pass = ctx.device.createCommandEncoder().beginComputePass();
    expect(() =>
      encodeEmbedding(ctx, pass, { ids: ctx.createBuffer('ids', 8, 'scratch'), table: table.gpu, out: ctx.createBuffer('o', 128, 'scratch'), count: 2 }),
    ).toThrow(/embedding\(w7x32\): out holds 128 bytes, needs 2×32 f32/);
    pass.end();
  });
});
