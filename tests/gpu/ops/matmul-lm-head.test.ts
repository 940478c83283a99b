import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/engine/gpu/context';
import { encodeEmbedding } from '../../../src/engine/ops/embedding';
import { encodeMatmul, matmulCpu, type XRows } from '../../../src/engine/ops/matmul';
import type { GpuWeight } from '../../../src/engine/weights';
import { nmse, randomArray } from '../../helpers/numeric';
import { KERNEL_NMSE, makeWeight, runPass, testContext } from './matmul-harness';

// The forward's LM head is encodeMatmul over E [vocab, hidden] (the tied embedding table or a
// separate lm_head), picking each sequence's last row by xRows; these tests run it that way.
function encodeLmHead(
  ctx: GpuContext,
  pass: GPUComputePassEncoder,
  args: { hidden: GPUBuffer; weight: GpuWeight; logits: GPUBuffer; count: number; rows?: XRows },
) {
  encodeMatmul(ctx, pass, { x: args.hidden, weight: args.weight, y: args.logits, m: args.count, xRows: args.rows });
}

/** Logits of the hidden rows `rows` (default all) against E f32 [vocab, hidden]. */
function lmHeadCpu(hidden: Float32Array, table: Float32Array, vocab: number, hiddenSize: number, rows?: number[]): Float32Array {
  return matmulCpu(hidden, table, rows ? rows.length : hidden.length / hiddenSize, vocab, hiddenSize, { xRows: rows });
}

describe('LM head over a tied, chunked embedding', () => {
  const [vocab, hidden, tokens] = [131, 96, 5];
  // 12 rows per chunk (q4 row of 96 = 48 bytes) → 11 vocabulary chunks, the last one partial.
  const maxChunkBytes = 12 * 48;

  it('computes full [T, vocab] logits (prefill, tiled kernel) and last-position logits (decode)', async () => {
    const ctx = await testContext();
    const table = makeWeight(ctx, 'q4', vocab, hidden, 5, { maxChunkBytes });
    expect(table.gpu.chunks.length).toBe(11);
    const h = randomArray(2 * tokens * hidden, 6); // two sequences of `tokens` positions
    const hBuf = ctx.upload('h', h, 'activations');

    // Full logits for 10 positions (M = 10 > GEMV_MAX_M: tiled kernel).
    const full = ctx.createBuffer('full', 2 * tokens * vocab * 4, 'activations');
    const gotFull = await runPass(ctx, full, 2 * tokens * vocab * 4, (pass) =>
      encodeLmHead(ctx, pass, { hidden: hBuf, weight: table.gpu, logits: full, count: 2 * tokens }),
    );
    expect(nmse(gotFull, lmHeadCpu(h, table.dequantized, vocab, hidden))).toBeLessThan(KERNEL_NMSE);

    // Last position of each sequence by offset/stride, and by indices (ragged batches).
    const last = ctx.createBuffer('last', 2 * vocab * 4, 'activations');
    const gotLast = await runPass(ctx, last, 2 * vocab * 4, (pass) =>
      encodeLmHead(ctx, pass, {
        hidden: hBuf,
        weight: table.gpu,
        logits: last,
        count: 2,
        rows: { offset: tokens - 1, stride: tokens },
      }),
    );
    const expectedLast = lmHeadCpu(h, table.dequantized, vocab, hidden, [tokens - 1, 2 * tokens - 1]);
    expect(nmse(gotLast, expectedLast)).toBeLessThan(KERNEL_NMSE);
    const ragged = ctx.createBuffer('ragged', 2 * vocab * 4, 'activations');
    const gotRagged = await runPass(ctx, ragged, 2 * vocab * 4, (pass) =>
      encodeLmHead(ctx, pass, {
        hidden: hBuf,
        weight: table.gpu,
        logits: ragged,
        count: 2,
        rows: { indices: ctx.upload('rows', new Uint32Array([2, 9]), 'scratch') },
      }),
    );
    expect(nmse(gotRagged, lmHeadCpu(h, table.dequantized, vocab, hidden, [2, 9]))).toBeLessThan(KERNEL_NMSE);
  });

  it('uses the same GpuWeight for the gather and the head in one pass', async () => {
    const ctx = await testContext();
    const table = makeWeight(ctx, 'q8', vocab, hidden, 7, { maxChunkBytes: 12 * 96 });
    const ids = [130, 4, 66];
    const embedded = ctx.createBuffer('emb', ids.length * hidden * 4, 'activations');
    const logits = ctx.createBuffer('logits', vocab * 4, 'activations');
    const got = await runPass(ctx, logits, vocab * 4, (pass) => {
      encodeEmbedding(ctx, pass, { ids: ctx.upload('ids', new Uint32Array(ids), 'scratch'), table: table.gpu, out: embedded, count: ids.length });
      encodeLmHead(ctx, pass, { hidden: embedded, weight: table.gpu, logits, count: 1, rows: { offset: 2, stride: 1 } });
    });
    const row = table.dequantized.subarray(66 * hidden, 67 * hidden);
    const expected = lmHeadCpu(Float32Array.from(row), table.dequantized, vocab, hidden);
    expect(nmse(got, expected)).toBeLessThan(KERNEL_NMSE);
    // A token's own embedding scores highest against itself for random tables (|e|² dominates).
    expect(got.indexOf(Math.max(...got))).toBe(66);
  });
});
