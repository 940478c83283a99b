import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { encodeGatherLogProb, encodeSoftmax, gatherLogProbCpu, rowChunks, softmaxCpu } from '../../../src/engine/ops/softmax';
import { testContext as context, runPass as run } from '../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../helpers/numeric';

// Shader compile and validation errors otherwise surface only as wrong numbers: fail on any.

// f32 on the GPU (exp/log within a few ULP, tree-ordered sums) against f64 on the CPU: each
// probability is off by ~1e-6 relative, so NMSE < 1e-11; log-probs are off by ~1e-6 absolute.
const NMSE_BOUND = 1e-10;
const LOGP_ABS = 2e-5;

describe('softmax / log-softmax / gather log-prob', () => {
  it.each([
    [1, 5, 'softmax', 1],
    [3, 1001, 'softmax', 0.7],
    [2, 257, 'log-softmax', 1],
    [1, 20011, 'log-softmax', 1.3],
  ] as const)('%i rows × %i: %s (temperature %d) matches the CPU reference', async (rows, vocab, mode, temperature) => {
    const ctx = await context();
    const logits = randomArray(rows * vocab, vocab + rows, 8);
    const logitsBuf = ctx.upload('logits', logits, 'activations');
    const out = ctx.createBuffer('out', logits.byteLength, 'activations');
    run(ctx, (pass) => encodeSoftmax(ctx, pass, { logits: logitsBuf, out, rows, vocab, mode, temperature }));
    const got = new Float32Array(await ctx.read(out, logits.byteLength));
    const expected = softmaxCpu(logits, vocab, mode, temperature);
    if (mode === 'softmax') {
      expect(nmse(got, expected)).toBeLessThan(NMSE_BOUND);
      // Every row sums to one.
      for (let r = 0; r < rows; r++) expect(got.subarray(r * vocab, (r + 1) * vocab).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    } else {
      expect(maxAbsDiff(got, expected)).toBeLessThan(LOGP_ABS);
    }
  });

  it('works in place and over row chunks whose offsets are not aligned (7 rows, 3 per chunk)', async () => {
    const ctx = await context();
    const [rows, vocab] = [7, 1001];
    const alignment = ctx.device.limits.minStorageBufferOffsetAlignment;
    const maxChunkBytes = 3 * vocab * 4 + alignment;
    expect(rowChunks(rows, vocab, maxChunkBytes, alignment).map((c) => c.rows)).toEqual([3, 3, 1]);
    const logits = randomArray(rows * vocab, 3, 5);
    const buf = ctx.upload('logits', logits, 'activations');
    run(ctx, (pass) => encodeSoftmax(ctx, pass, { logits: buf, rows, vocab, mode: 'log-softmax', maxChunkBytes }));
    const got = new Float32Array(await ctx.read(buf, logits.byteLength));
    expect(maxAbsDiff(got, softmaxCpu(logits, vocab, 'log-softmax'))).toBeLessThan(LOGP_ABS);
  });

  it('stays finite with huge logit ranges (no overflow: max is subtracted first)', async () => {
    const ctx = await context();
    const logits = new Float32Array([1e30, -1e30, 88, 89, 0]);
    const out = ctx.createBuffer('out', logits.byteLength, 'activations');
    run(ctx, (pass) => encodeSoftmax(ctx, pass, { logits: ctx.upload('l', logits, 'activations'), out, rows: 1, vocab: 5, mode: 'softmax' }));
    const got = new Float32Array(await ctx.read(out, logits.byteLength));
    expect(Array.from(got)).toEqual([1, 0, 0, 0, 0]);
  });

  it.each([
    [1, 9],
    [5, 1001],
  ])('gather log-prob over %i rows × %i matches the CPU reference, chunked and not', async (rows, vocab) => {
    const ctx = await context();
    const logits = randomArray(rows * vocab, 11 * vocab, 6);
    const targets = Uint32Array.from({ length: rows }, (_, r) => (r * 7919 + 3) % vocab);
    const logitsBuf = ctx.upload('logits', logits, 'activations');
    const targetsBuf = ctx.upload('targets', targets, 'activations');
    const expected = gatherLogProbCpu(logits, vocab, targets, 0.9);
    for (const maxChunkBytes of [undefined, 2 * vocab * 4 + 256]) {
      const out = ctx.createBuffer('out', rows * 4, 'activations');
      run(ctx, (pass) => encodeGatherLogProb(ctx, pass, { logits: logitsBuf, targets: targetsBuf, out, rows, vocab, temperature: 0.9, maxChunkBytes }));
      const got = new Float32Array(await ctx.read(out, rows * 4));
      expect(maxAbsDiff(got, expected)).toBeLessThan(LOGP_ABS);
    }
  });

  it('gather gives NaN for a target outside the vocabulary', async () => {
    const ctx = await context();
    const logits = randomArray(2 * 5, 1);
    const out = ctx.createBuffer('out', 8, 'activations');
    run(ctx, (pass) =>
      encodeGatherLogProb(ctx, pass, {
        logits: ctx.upload('l', logits, 'activations'),
        targets: ctx.upload('t', new Uint32Array([5, 4]), 'activations'),
        out,
        rows: 2,
        vocab: 5,
      }),
    );
    const got = new Float32Array(await ctx.read(out, 8));
    expect(Number.isNaN(got[0])).toBe(true);
    expect(got[1]).toBeCloseTo(gatherLogProbCpu(logits, 5, [5, 4])[1], 5);
  });

  it('rejects bad arguments with clear errors', async () => {
    const ctx = await context();
    const buf = ctx.createBuffer('b', 40, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeSoftmax(ctx, pass, { logits: buf, rows: 3, vocab: 5, mode: 'softmax' })).toThrow(/logits hold 10 f32 values, fewer than 3 rows × 5/);
    expect(() => encodeSoftmax(ctx, pass, { logits: buf, rows: 1, vocab: 5, mode: 'softmax', temperature: 0 })).toThrow(/temperature must be a positive/);
    expect(() => rowChunks(2, 100, 300, 256)).toThrow(/does not fit a 300-byte binding/);
    pass.end();
  });
});
