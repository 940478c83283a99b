import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import {
  argmaxCpu,
  encodeSample,
  packSamplingParams,
  rowSeed,
  sampleCpu,
  samplingDistributionCpu,
  samplingUniform,
  type SamplingRowParams,
} from '../../../src/engine/ops/sampling';
import { getTestDevice } from '../../helpers/gpu';
import { maxAbsDiff, randomArray } from '../../helpers/numeric';

// Shader compile and validation errors otherwise surface only as wrong numbers: fail on any.
const gpuErrors: string[] = [];
beforeAll(async () => {
  (await getTestDevice()).device.addEventListener('uncapturederror', (event) => gpuErrors.push((event as GPUUncapturedErrorEvent).error.message));
});
afterEach(() => {
  expect(gpuErrors.splice(0)).toEqual([]);
});

async function context() {
  return new GpuContext((await getTestDevice()).device);
}

async function sampleOnGpu(ctx: GpuContext, logits: Float32Array, vocab: number, params: SamplingRowParams[], maxChunkBytes?: number) {
  const rows = params.length;
  const tokens = ctx.createBuffer('tokens', rows * 4, 'activations');
  const logprobs = ctx.createBuffer('logprobs', rows * 8, 'activations');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeSample(ctx, pass, {
    logits: ctx.upload('logits', logits, 'activations'),
    params: ctx.upload('params', packSamplingParams(params), 'activations'),
    tokens,
    logprobs,
    rows,
    vocab,
    maxChunkBytes,
  });
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return { tokens: new Uint32Array(await ctx.read(tokens, rows * 4)), logprobs: new Float32Array(await ctx.read(logprobs, rows * 8)) };
}

/** Greedy decoding: the sampling kernel at temperature 0 on every row (the engine's greedy path). */
async function argmaxOnGpu(ctx: GpuContext, logits: Float32Array, vocab: number, maxChunkBytes?: number) {
  const rows = logits.length / vocab;
  const greedy = Array.from({ length: rows }, (_, r) => ({ temperature: 0, topK: 0, topP: 1, seed: rowSeed(1, r), counter: 0 }));
  return (await sampleOnGpu(ctx, logits, vocab, greedy, maxChunkBytes)).tokens;
}

/** Logits rounded to multiples of 0.5, so many values tie (exercises tie handling). */
function tiedLogits(n: number, seed: number) {
  return randomArray(n, seed, 4).map((v) => Math.round(v * 2) / 2);
}

// Log-probs: f32 exp/log and sums on the GPU vs f64 on the CPU, values of size ~10: 1e-4 absolute.
const LOGP_ABS = 1e-4;

describe('greedy (temperature 0) = argmax', () => {
  it.each([
    [1, 7],
    [3, 1001],
    [2, 151936],
  ])('matches torch.argmax (ties → lowest index) for %i rows × %i', async (rows, vocab) => {
    const ctx = await context();
    const logits = tiedLogits(rows * vocab, vocab);
    // Plant a tie for the maximum in every row: the later copy must lose.
    for (let r = 0; r < rows; r++) {
      logits[r * vocab + vocab - 1] = 100;
      logits[r * vocab + Math.floor(vocab / 2) + r] = 100;
    }
    const got = await argmaxOnGpu(ctx, logits, vocab);
    expect(Array.from(got)).toEqual(Array.from(argmaxCpu(logits, vocab)));
    expect(got[0]).toBe(Math.floor(vocab / 2));
  });

  it('works across row chunks with unaligned offsets', async () => {
    const ctx = await context();
    const vocab = 333;
    const logits = randomArray(7 * vocab, 9);
    const got = await argmaxOnGpu(ctx, logits, vocab, 2 * vocab * 4 + 256);
    expect(Array.from(got)).toEqual(Array.from(argmaxCpu(logits, vocab)));
  });
});

describe('GPU sampling', () => {
  const variants: Omit<SamplingRowParams, 'seed' | 'counter'>[] = [
    { temperature: 0, topK: 0, topP: 1 }, // greedy
    { temperature: 1, topK: 0, topP: 1 }, // plain sampling
    { temperature: 0.7, topK: 20, topP: 1 },
    { temperature: 1.3, topK: 0, topP: 0.9 },
    { temperature: 0.9, topK: 50, topP: 0.8 },
    { temperature: 1, topK: 1, topP: 1 },
    { temperature: 0.6, topK: 0, topP: 0.05 },
    { temperature: 1.1, topK: 1000, topP: 0.97 },
  ];

  // 1001 runs the 64-thread variant of the kernel, 5003 the 256-thread one (samplingWorkgroupSize).
  it.each([
    [1001, 160],
    [5003, 24],
  ])('picks exactly the CPU reference token (vocab %i, %i rows of mixed settings, ties included)', async (vocab, rows) => {
    const ctx = await context();
    const logits = new Float32Array(rows * vocab);
    for (let r = 0; r < rows; r++) logits.set(r % 2 === 0 ? randomArray(vocab, 1000 + r, 5) : tiedLogits(vocab, 2000 + r), r * vocab);
    const params = Array.from({ length: rows }, (_, r) => ({ ...variants[r % variants.length], seed: rowSeed(1234, r), counter: r * 3 }));
    const got = await sampleOnGpu(ctx, logits, vocab, params);
    const expected = sampleCpu(logits, vocab, params);
    expect(Array.from(got.tokens)).toEqual(Array.from(expected.tokens));
    expect(maxAbsDiff(got.logprobs, expected.logprobs)).toBeLessThan(LOGP_ABS);
    // Greedy rows report the argmax and log-prob 0 under the (degenerate) sampling distribution.
    expect(got.tokens[0]).toBe(argmaxCpu(logits.subarray(0, vocab), vocab)[0]);
    expect(got.logprobs[1]).toBe(0);
  });

  it('draws follow the filtered distribution (temperature 0.8, top-k 6, top-p 0.9)', async () => {
    const ctx = await context();
    const vocab = 13;
    const draws = 1500;
    const row = new Float32Array([0.3, 2.1, -1, 1.7, 2.1, 0.9, -3, 1.2, 0.2, 1.9, -0.5, 0.8, 1.5]);
    const logits = new Float32Array(draws * vocab);
    for (let d = 0; d < draws; d++) logits.set(row, d * vocab);
    const setting = { temperature: 0.8, topK: 6, topP: 0.9 };
    const params = Array.from({ length: draws }, (_, d) => ({ ...setting, seed: 77, counter: d }));
    const got = await sampleOnGpu(ctx, logits, vocab, params);
    const dist = samplingDistributionCpu(row, { ...setting, seed: 0, counter: 0 });
    const counts = new Array(vocab).fill(0);
    for (const t of got.tokens) counts[t]++;
    let kept = 0;
    for (let i = 0; i < vocab; i++) {
      const p = dist.scaled[i] >= dist.threshold ? dist.weights[i] / dist.total : 0;
      if (p > 0) kept++;
      // Binomial standard error; 5 sigma keeps the false-failure rate negligible.
      expect(Math.abs(counts[i] / draws - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / draws) + 1e-9);
    }
    // Top-k 6 and then top-p 0.9 must have removed something and kept more than one token.
    expect(kept).toBeGreaterThan(1);
    expect(kept).toBeLessThan(6);
  });

  it('handles a production-size vocabulary row (151936) and row chunking', async () => {
    const ctx = await context();
    const vocab = 151936;
    const logits = randomArray(2 * vocab, 31, 6);
    const params = [
      { temperature: 0.8, topK: 40, topP: 0.95, seed: 5, counter: 1 },
      { temperature: 1, topK: 0, topP: 0.5, seed: 6, counter: 1 },
    ];
    const got = await sampleOnGpu(ctx, logits, vocab, params, vocab * 4 + 256);
    const expected = sampleCpu(logits, vocab, params);
    expect(Array.from(got.tokens)).toEqual(Array.from(expected.tokens));
    expect(maxAbsDiff(got.logprobs, expected.logprobs)).toBeLessThan(LOGP_ABS);
  });

  it('treats -0 and +0 as one value at the top-k threshold', async () => {
    const ctx = await context();
    const vocab = 5;
    const draws = 200;
    const row = new Float32Array([1, -0, 0, -1, 0.5]);
    const logits = new Float32Array(draws * vocab);
    for (let d = 0; d < draws; d++) logits.set(row, d * vocab);
    // Top-3 ends at the value 0, which both zeros share: both must stay samplable.
    const params = Array.from({ length: draws }, (_, d) => ({ temperature: 1, topK: 3, topP: 1, seed: 3, counter: d }));
    const got = await sampleOnGpu(ctx, logits, vocab, params);
    expect(Array.from(got.tokens)).toEqual(Array.from(sampleCpu(logits, vocab, params).tokens));
    expect(new Set(Array.from(got.tokens))).toEqual(new Set([0, 1, 2, 4]));
  });

  it('is reproducible for the same (seed, counter) and varies with the counter', async () => {
    const ctx = await context();
    const vocab = 101;
    const row = randomArray(vocab, 4, 1);
    const logits = new Float32Array(4 * vocab);
    for (let r = 0; r < 4; r++) logits.set(row, r * vocab);
    const params = [0, 0, 1, 2].map((counter) => ({ temperature: 1, topK: 0, topP: 1, seed: 9, counter }));
    const a = await sampleOnGpu(ctx, logits, vocab, params);
    const b = await sampleOnGpu(ctx, logits, vocab, params);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(a.tokens[0]).toBe(a.tokens[1]);
    expect(new Set(Array.from(a.tokens)).size).toBeGreaterThan(1);
  });
});

describe('sampling semantics on the CPU', () => {
  it('top-k keeps every token tied with the K-th value (HF removes only scores < K-th)', () => {
    const row = new Float32Array([1, 3, 2, 2, 0]);
    const d = samplingDistributionCpu(row, { temperature: 1, topK: 2, topP: 1, seed: 0, counter: 0 });
    expect(Array.from(d.scaled).filter((v) => v >= d.threshold).length).toBe(3);
  });

  it('top-p keeps the smallest top set reaching P, with the top token always kept', () => {
    // Probabilities ∝ e^[2, 1, 0] = [0.665, 0.245, 0.090].
    const row = new Float32Array([0, 2, 1]);
    const keptFor = (topP: number) => {
      const d = samplingDistributionCpu(row, { temperature: 1, topK: 0, topP, seed: 0, counter: 0 });
      return Array.from(d.scaled).flatMap((v, i) => (v >= d.threshold ? [i] : []));
    };
    expect(keptFor(0.01)).toEqual([1]);
    expect(keptFor(0.6)).toEqual([1]);
    expect(keptFor(0.7)).toEqual([1, 2]);
    expect(keptFor(0.95)).toEqual([0, 1, 2]);
  });

  it('the uniform draw is in [0, 1), deterministic and roughly uniform', () => {
    let sum = 0;
    let outside = 0;
    for (let c = 0; c < 20000; c++) {
      const u = samplingUniform(42, c);
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    // Mean of 20000 uniforms: standard error 0.002, so 0.01 is 5 sigma.
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
    expect(samplingUniform(1, 2)).toBe(samplingUniform(1, 2));
    expect(samplingUniform(1, 2)).not.toBe(samplingUniform(2, 2));
  });

  it('rejects invalid parameters naming the row and field', () => {
    const ok = { temperature: 1, topK: 0, topP: 1, seed: 0, counter: 0 };
    expect(() => packSamplingParams([ok, { ...ok, topP: 0 }])).toThrow(/row 1: topP must be in \(0, 1\], got 0/);
    expect(() => packSamplingParams([{ ...ok, temperature: -1 }])).toThrow(/row 0: temperature must be a finite number >= 0/);
    expect(() => packSamplingParams([{ ...ok, topK: 1.5 }])).toThrow(/topK must be a non-negative integer/);
    expect(() => packSamplingParams([{ ...ok, seed: -1 }])).toThrow(/seed must be a u32/);
  });
});
