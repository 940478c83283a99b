import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { gatherLogProbCpu } from '../../../../src/engine/ops/softmax';
import { encodeLogProbBackward, encodeLogProbForward, logProbLossCpu, type LogProbBackwardArgs } from '../../../../src/training/ops/logprob-backward';
import { expectGradClose, finiteDifferenceGrad, gradMismatches, randomFloat64 } from '../../../helpers/finite-difference';
import { testContext as context, runPass as run } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

async function readF32(ctx: GpuContext, buffer: GPUBuffer, count: number) {
  return new Float32Array(await ctx.read(buffer, count * 4));
}

// Softmax probabilities in f32 (exp, a tree sum, one division) then one subtraction and product:
// relative errors around 1e-6 per value.
const NMSE_BOUND = 1e-10;

describe('log-prob loss: finite differences of the CPU reference', () => {
  it.each([
    [1, 2, 1],
    [3, 5, 1],
    [4, 6, 0.7],
  ])('dL/dlogits matches central differences (%i rows, vocab %i, temperature %f)', (rows, vocab, temperature) => {
    const logits = randomFloat64(rows * vocab, 100 + vocab, 3);
    const targets = Array.from({ length: rows }, (_, r) => (r * 7 + 2) % vocab);
    // Mask-normalized weights like the fixture loss, with one masked (prompt) row when rows > 1.
    const mask = targets.map((_, r): number => (r === 1 ? 0 : 1));
    const total = mask.reduce((a, b) => a + b, 0);
    const weights = mask.map((m) => m / total);
    const { dLogits } = logProbLossCpu(logits, vocab, targets, weights, temperature);
    const numeric = finiteDifferenceGrad((z) => logProbLossCpu(z, vocab, targets, weights, temperature).loss, logits);
    expectGradClose(dLogits, numeric, { rtol: 1e-6, atol: 1e-9 });
    // The opposite sign (gradient of +Σ w·logp) must fail the check.
    expect(
      gradMismatches(
        dLogits.map((v) => -v),
        numeric,
        { rtol: 1e-6, atol: 1e-9 },
      ).length,
    ).toBeGreaterThan(0);
  });

  it('log-probs agree with the engine gather reference; a target outside the vocabulary poisons its row', () => {
    const vocab = 9;
    const logits = randomArray(3 * vocab, 5, 4);
    const targets = [4, 0, 8];
    const { logProbs, loss } = logProbLossCpu(logits, vocab, targets, [0.5, 0.25, 1], 1.3);
    expect(maxAbsDiff(logProbs, gatherLogProbCpu(logits, vocab, targets, 1.3))).toBeLessThan(1e-5);
    expect(loss).toBeCloseTo(-(0.5 * logProbs[0] + 0.25 * logProbs[1] + logProbs[2]), 12);
    const bad = logProbLossCpu(logits, vocab, [4, 9, 8], [1, 0, 1]);
    expect(Number.isNaN(bad.logProbs[1]) && Number.isNaN(bad.loss)).toBe(true);
    expect(bad.dLogits.subarray(vocab, 2 * vocab).every(Number.isNaN)).toBe(true);
  });
});

/** The trainer's order: log-probs first, then dLogits (in place over the logits unless dLogits is given). */
function encodeLogProbLoss(ctx: GpuContext, pass: GPUComputePassEncoder, args: LogProbBackwardArgs & { logProbs: GPUBuffer }) {
  encodeLogProbForward(ctx, pass, args);
  encodeLogProbBackward(ctx, pass, args);
}

describe('log-prob loss on the GPU', () => {
  it('forward + in-place backward over rows wider than a workgroup, at a temperature', async () => {
    const ctx = await context();
    const rows = 3;
    const vocab = 300;
    const logits = randomArray(rows * vocab, 7, 6);
    const targets = new Uint32Array([17, 299, 0]);
    const weights = new Float32Array([0.5, 0, -1.25]);
    const logitsBuf = ctx.upload('logits', logits, 'activations');
    const logProbs = ctx.createBuffer('logp', rows * 4, 'activations');
    run(ctx, (pass) =>
      encodeLogProbLoss(ctx, pass, {
        logits: logitsBuf,
        targets: ctx.upload('t', targets, 'activations'),
        weights: ctx.upload('w', weights, 'activations'),
        logProbs,
        rows,
        vocab,
        temperature: 0.8,
      }),
    );
    const expected = logProbLossCpu(logits, vocab, targets, weights, 0.8);
    expect(maxAbsDiff(await readF32(ctx, logProbs, rows), expected.logProbs)).toBeLessThan(1e-4);
    const grad = await readF32(ctx, logitsBuf, rows * vocab);
    expect(nmse(grad, expected.dLogits)).toBeLessThan(NMSE_BOUND);
    // A zero-weight (prompt) row gets an exactly zero gradient.
    expect(grad.subarray(vocab, 2 * vocab).every((v) => v === 0)).toBe(true);
  });

  it('chunks rows over a small binding limit into a separate dLogits, leaving the logits intact', async () => {
    const ctx = await context();
    const rows = 5;
    const vocab = 37;
    const alignment = ctx.device.limits.minStorageBufferOffsetAlignment;
    // Two rows per chunk, and rows of 148 bytes start mid-alignment: exercises the element shift.
    const maxChunkBytes = alignment + 2 * vocab * 4 + 8;
    const logits = randomArray(rows * vocab, 8, 5);
    const targets = new Uint32Array([36, 3, 0, 20, 11]);
    const weights = new Float32Array([1, 2, 3, 4, 5]).map((w) => w / 15);
    const logitsBuf = ctx.upload('logits', logits, 'activations');
    const targetsBuf = ctx.upload('t', targets, 'activations');
    const dLogits = ctx.createBuffer('dlogits', rows * vocab * 4, 'activations');
    const logProbs = ctx.createBuffer('logp', rows * 4, 'activations');
    // The GRPO order: forward, (weights computed from the log-probs), then backward.
    run(ctx, (pass) => encodeLogProbForward(ctx, pass, { logits: logitsBuf, targets: targetsBuf, logProbs, rows, vocab, maxChunkBytes }));
    run(ctx, (pass) =>
      encodeLogProbBackward(ctx, pass, {
        logits: logitsBuf,
        targets: targetsBuf,
        weights: ctx.upload('w', weights, 'activations'),
        dLogits,
        rows,
        vocab,
        maxChunkBytes,
      }),
    );
    const expected = logProbLossCpu(logits, vocab, targets, weights);
    expect(maxAbsDiff(await readF32(ctx, logProbs, rows), expected.logProbs)).toBeLessThan(1e-5);
    expect(nmse(await readF32(ctx, dLogits, rows * vocab), expected.dLogits)).toBeLessThan(NMSE_BOUND);
    expect(Array.from(await readF32(ctx, logitsBuf, rows * vocab))).toEqual(Array.from(logits));
  });

  it('a target outside the vocabulary makes its log-prob and gradient row NaN, other rows unaffected', async () => {
    const ctx = await context();
    const vocab = 37;
    const logits = randomArray(2 * vocab, 9, 2);
    const targets = new Uint32Array([37, 5]);
    const weights = new Float32Array([0, 1]);
    const logitsBuf = ctx.upload('logits', logits, 'activations');
    const logProbs = ctx.createBuffer('logp', 8, 'activations');
    run(ctx, (pass) =>
      encodeLogProbLoss(ctx, pass, {
        logits: logitsBuf,
        targets: ctx.upload('t', targets, 'activations'),
        weights: ctx.upload('w', weights, 'activations'),
        logProbs,
        rows: 2,
        vocab,
      }),
    );
    const lp = await readF32(ctx, logProbs, 2);
    const grad = await readF32(ctx, logitsBuf, 2 * vocab);
    expect(Number.isNaN(lp[0])).toBe(true);
    expect(grad.subarray(0, vocab).every(Number.isNaN)).toBe(true);
    const expected = logProbLossCpu(logits.subarray(vocab), vocab, [5], [1]);
    expect(nmse(grad.subarray(vocab), expected.dLogits)).toBeLessThan(NMSE_BOUND);
  });

  it('rejects bad sizes, temperature and aliasing, naming the problem', async () => {
    const ctx = await context();
    const logits = ctx.createBuffer('logits', 20 * 4, 'scratch');
    const targets = ctx.createBuffer('t', 4 * 4, 'scratch');
    const weights = ctx.createBuffer('w', 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() => encodeLogProbBackward(ctx, pass, { logits, targets, weights, rows: 3, vocab: 7 })).toThrow(/logits hold 20 f32 values, fewer than 3 rows × 7/);
    expect(() => encodeLogProbBackward(ctx, pass, { logits, targets, weights, rows: 2, vocab: 5 })).toThrow(/weights hold fewer than 2/);
    expect(() => encodeLogProbBackward(ctx, pass, { logits, targets, weights, rows: 1, vocab: 5, temperature: 0 })).toThrow(
      /temperature must be a positive finite number/,
    );
    expect(() => encodeLogProbBackward(ctx, pass, { logits, targets, weights, dLogits: logits, rows: 1, vocab: 5 })).toThrow(/omit `dLogits`/);
    expect(() => encodeLogProbForward(ctx, pass, { logits, targets: weights, logProbs: weights, rows: 2, vocab: 5 })).toThrow(/targets hold fewer than 2/);
    pass.end();
  });
});
