import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import {
  attentionCpu,
  attentionScratchBytes,
  encodeAttention,
  planAttention,
  suggestAttentionSplits,
  type AttentionKernel,
} from '../../../src/engine/ops/attention';
import { checkTokenPlacement, encodeKvCopy, encodeKvWrite, KvCache, KvCacheCpu, type KvCacheConfig } from '../../../src/engine/ops/kv-cache';
import { roundToF16 } from '../../../src/engine/quant/f16-bits';
import { getTestDevice } from '../../helpers/gpu';
import { nmse, randomArray } from '../../helpers/numeric';

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

interface Step {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  slots: number[];
  positions: number[];
}

/** Writes the step's K/V into the cache and runs attention, in one compute pass, like a model step. */
async function runStep(ctx: GpuContext, cache: KvCache, heads: number, step: Step, splits = 1, kernel: AttentionKernel = 'tiled'): Promise<Float32Array> {
  const tokens = step.slots.length;
  const split =
    splits > 1 ? { splits, scratch: ctx.createBuffer('scratch', attentionScratchBytes(tokens, heads, cache.config.headDim, splits), 'scratch') } : undefined;
  const out = ctx.createBuffer('out', step.q.length * 4, 'activations');
  const slots = ctx.upload('slots', new Uint32Array(step.slots), 'activations');
  const positions = ctx.upload('positions', new Uint32Array(step.positions), 'activations');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeKvWrite(ctx, pass, { cache, layer: 0, k: ctx.upload('k', step.k, 'activations'), v: ctx.upload('v', step.v, 'activations'), slots, positions, tokens });
  encodeAttention(ctx, pass, { cache, layer: 0, q: ctx.upload('q', step.q, 'activations'), out, slots, positions, tokens, heads, split, kernel });
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return new Float32Array(await ctx.read(out, step.q.length * 4));
}

function randomStep(slots: number[], positions: number[], heads: number, kvHeads: number, headDim: number, seed: number): Step {
  const tokens = slots.length;
  return {
    q: randomArray(tokens * heads * headDim, seed, 2),
    k: randomArray(tokens * kvHeads * headDim, seed + 1, 2),
    v: randomArray(tokens * kvHeads * headDim, seed + 2),
    slots,
    positions,
  };
}

/** Rows [from, to) of a [tokens, width] array. */
function rows(a: Float32Array, width: number, from: number, to: number) {
  return a.slice(from * width, to * width);
}

/** Independent textbook causal attention for one sequence (no cache), to check the CPU reference. */
function naiveCausal(step: Step, heads: number, kvHeads: number, d: number): Float32Array {
  const tokens = step.slots.length;
  const out = new Float32Array(tokens * heads * d);
  for (let t = 0; t < tokens; t++) {
    for (let h = 0; h < heads; h++) {
      const kv = Math.floor(h / (heads / kvHeads));
      const w: number[] = [];
      for (let j = 0; j <= t; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += step.q[(t * heads + h) * d + i] * step.k[(j * kvHeads + kv) * d + i];
        w.push(Math.exp(s / Math.sqrt(d)));
      }
      const z = w.reduce((a, b) => a + b, 0);
      for (let i = 0; i < d; i++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += (w[j] / z) * step.v[(j * kvHeads + kv) * d + i];
        out[(t * heads + h) * d + i] = acc;
      }
    }
  }
  return out;
}

// GPU: f32 dot products (sequential over head_dim), online softmax with exp's few-ULP error,
// f32 accumulation over at most ~70 positions. CPU: f64. Relative errors stay ~1e-6, so
// NMSE ~1e-12; 1e-9 leaves room for SwiftShader's exp while still catching any masking,
// scaling or head-mapping mistake (those give NMSE ~1e-2 or worse).
const NMSE_BOUND = 1e-9;
// An f16 cache is compared with a CPU mirror holding the same f16-rounded K/V. pack2x16float's
// rounding is implementation-defined, so single values may differ by one f16 ULP (2^-11
// relative): NMSE up to ~(2^-11)² ≈ 2.4e-7. Mapping or masking bugs give 1e-2 or worse.
const NMSE_BOUND_F16 = 1e-6;

describe.each(['f32', 'f16'] as const)('KV cache (%s) + causal GQA attention', (dtype) => {
  const bound = dtype === 'f16' ? NMSE_BOUND_F16 : NMSE_BOUND;
  // f16 packs pairs of dims, so it needs an even head_dim.
  const dim = (d: number) => (dtype === 'f16' && d % 2 === 1 ? d + 1 : d);

  it.each([
    // [heads, kvHeads, headDim, tokens]
    [3, 3, 9, 5], // GQA ratio 1
    [4, 2, 7, 6], // ratio 2
    [6, 2, 5, 3], // ratio 3
    [3, 1, 70, 2], // head_dim above the workgroup: two dims per thread
    [2, 1, 3, 1], // sequence length 1
    [2, 2, 4, 70], // more positions than one tile (64); 16 key groups of 4 lanes
    [4, 2, 24, 73], // 2 key groups of 32 lanes over two tiles
  ])('prefill matches the CPU reference: %i heads, %i kv heads, head_dim %i, %i tokens', async (heads, kvHeads, oddDim, tokens) => {
    const ctx = await context();
    const headDim = dim(oddDim);
    const config: KvCacheConfig = { layers: 1, slots: 2, kvHeads, headDim, maxSeq: 75, dtype };
    const cache = new KvCache(ctx, config);
    // Slot 1, so slot indexing is exercised too.
    const step = randomStep(new Array(tokens).fill(1), [...Array(tokens).keys()], heads, kvHeads, headDim, 100 + tokens);
    const got = await runStep(ctx, cache, heads, step);
    const cpuCache = new KvCacheCpu(config);
    cpuCache.write(step.k, step.v, step.slots, step.positions);
    const expected = attentionCpu(step.q, cpuCache, step.slots, step.positions, heads);
    if (dtype === 'f32') expect(nmse(expected, naiveCausal(step, heads, kvHeads, headDim))).toBeLessThan(1e-20);
    expect(nmse(got, expected)).toBeLessThan(bound);
    cache.destroy();
  });

  it('a decode step after prefill equals the same row of a full prefill (cache = recompute)', async () => {
    const ctx = await context();
    const [heads, kvHeads, headDim, tokens] = [4, 2, 6, 9];
    const config: KvCacheConfig = { layers: 1, slots: 1, kvHeads, headDim, maxSeq: 16, dtype };
    const full = randomStep(new Array(tokens).fill(0), [...Array(tokens).keys()], heads, kvHeads, headDim, 7);
    const fullOut = await runStep(ctx, new KvCache(ctx, config), heads, full);

    const cache = new KvCache(ctx, config);
    const qw = heads * headDim;
    const kw = kvHeads * headDim;
    const split = (from: number, to: number): Step => ({
      q: rows(full.q, qw, from, to),
      k: rows(full.k, kw, from, to),
      v: rows(full.v, kw, from, to),
      slots: full.slots.slice(from, to),
      positions: full.positions.slice(from, to),
    });
    const prefillOut = await runStep(ctx, cache, heads, split(0, tokens - 2));
    const decode1 = await runStep(ctx, cache, heads, split(tokens - 2, tokens - 1));
    const decode2 = await runStep(ctx, cache, heads, split(tokens - 1, tokens));
    // Same kernel, same keys in the same order: identical up to at most rounding noise.
    expect(nmse(prefillOut, rows(fullOut, qw, 0, tokens - 2))).toBeLessThan(1e-12);
    expect(nmse(decode1, rows(fullOut, qw, tokens - 2, tokens - 1))).toBeLessThan(1e-12);
    expect(nmse(decode2, rows(fullOut, qw, tokens - 1, tokens))).toBeLessThan(1e-12);
  });

  it.each([1, 2, 3])('a batch of 3 sequences of different lengths equals each alone (%i slots per chunk)', async (slotsPerChunk) => {
    const ctx = await context();
    const [heads, kvHeads, headDim, maxSeq] = [3, 1, dim(5), 8];
    const slotBytes = (kvHeads * maxSeq * headDim * 4) / (dtype === 'f16' ? 2 : 1);
    const config: KvCacheConfig = { layers: 2, slots: 3, kvHeads, headDim, maxSeq, maxChunkBytes: slotsPerChunk * slotBytes, dtype };
    const lengths = [3, 1, 6];
    // Interleave the tokens of the three sequences in one batch: slot i holds sequence i.
    const order: [number, number][] = [];
    for (let p = 0; p < 6; p++) for (let s = 0; s < 3; s++) if (p < lengths[s]) order.push([s, p]);
    const alone = lengths.map((len, s) => randomStep(new Array(len).fill(0), [...Array(len).keys()], heads, kvHeads, headDim, 40 + s));
    const qw = heads * headDim;
    const kw = kvHeads * headDim;
    const batch: Step = {
      q: new Float32Array(order.length * qw),
      k: new Float32Array(order.length * kw),
      v: new Float32Array(order.length * kw),
      slots: [],
      positions: [],
    };
    order.forEach(([s, p], t) => {
      batch.q.set(rows(alone[s].q, qw, p, p + 1), t * qw);
      batch.k.set(rows(alone[s].k, kw, p, p + 1), t * kw);
      batch.v.set(rows(alone[s].v, kw, p, p + 1), t * kw);
      batch.slots.push(s);
      batch.positions.push(p);
    });
    const cache = new KvCache(ctx, config);
    expect(cache.layers[0].length).toBe(Math.ceil(3 / slotsPerChunk));
    const batchOut = await runStep(ctx, cache, heads, batch);
    for (let s = 0; s < 3; s++) {
      const aloneOut = await runStep(ctx, new KvCache(ctx, { ...config, slots: 1 }), heads, alone[s]);
      const gathered = new Float32Array(lengths[s] * qw);
      order.forEach(([bs, p], t) => {
        if (bs === s) gathered.set(rows(batchOut, qw, t, t + 1), p * qw);
      });
      expect(nmse(gathered, aloneOut)).toBeLessThan(1e-12);
    }
  });

  it('forks a prefilled prompt into other slots (same and other chunk) with kvCopy', async () => {
    const ctx = await context();
    const [heads, kvHeads, headDim, prompt] = [4, 2, dim(5), 6];
    const slotBytes = (kvHeads * 10 * headDim * 4) / (dtype === 'f16' ? 2 : 1);
    // 2 slots per chunk: slot 1 shares slot 0's buffer, slot 2 lives in the next chunk.
    const config: KvCacheConfig = { layers: 2, slots: 3, kvHeads, headDim, maxSeq: 10, maxChunkBytes: 2 * slotBytes, dtype };
    const cache = new KvCache(ctx, config);
    const prefill = randomStep(new Array(prompt).fill(0), [...Array(prompt).keys()], heads, kvHeads, headDim, 61);
    await runStep(ctx, cache, heads, prefill);
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeKvCopy(ctx, pass, { cache, fromSlot: 0, toSlot: 1, length: prompt });
    encodeKvCopy(ctx, pass, { cache, fromSlot: 0, toSlot: 2, length: prompt });
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    // One decode token per fork, each with its own continuation.
    const decode = randomStep([0, 1, 2], [prompt, prompt, prompt], heads, kvHeads, headDim, 62);
    const got = await runStep(ctx, cache, heads, decode);
    const cpu = new KvCacheCpu(config);
    cpu.write(prefill.k, prefill.v, prefill.slots, prefill.positions);
    cpu.copySlot(0, 1, prompt);
    cpu.copySlot(0, 2, prompt);
    cpu.write(decode.k, decode.v, decode.slots, decode.positions);
    expect(nmse(got, attentionCpu(decode.q, cpu, decode.slots, decode.positions, heads))).toBeLessThan(bound);
    expect(() => encodeKvCopy(ctx, ctx.device.createCommandEncoder().beginComputePass(), { cache, fromSlot: 0, toSlot: 3, length: 2 })).toThrow(
      /toSlot 3 is out of range/,
    );
  });

  it.each([2, 3, 7])('split-K decode (%i splits) matches the CPU reference, with empty splits for short sequences', async (splits) => {
    const ctx = await context();
    const [heads, kvHeads, headDim] = [4, 2, dim(5)];
    const config: KvCacheConfig = { layers: 1, slots: 2, kvHeads, headDim, maxSeq: 80, dtype };
    const cache = new KvCache(ctx, config);
    // Slot 0 holds 70 tokens (two tiles), slot 1 only 2: with 7 splits some ranges are empty.
    const lengths = [70, 2];
    const prefills = lengths.map((len, s) => randomStep(new Array(len).fill(s), [...Array(len).keys()], heads, kvHeads, headDim, 80 + s));
    for (const p of prefills) await runStep(ctx, cache, heads, p);
    const decode = randomStep([0, 1], lengths, heads, kvHeads, headDim, 90);
    const got = await runStep(ctx, cache, heads, decode, splits);
    const cpu = new KvCacheCpu(config);
    for (const p of prefills) cpu.write(p.k, p.v, p.slots, p.positions);
    cpu.write(decode.k, decode.v, decode.slots, decode.positions);
    expect(nmse(got, attentionCpu(decode.q, cpu, decode.slots, decode.positions, heads))).toBeLessThan(bound);
  });

  // The serial (barrier-free) kernel: decode rows of sequences 70 and 2 tokens long, in slots of
  // different cache chunks (one slot per chunk), unsplit and split (7 splits: empty ranges), with
  // a head_dim above and below 64; plus a 3-token prefill-shaped call.
  it.each([
    // [heads, kvHeads, headDim, splits]
    [4, 2, 5, 1],
    [4, 2, 5, 3],
    [3, 1, 70, 7],
  ])('the serial kernel matches the CPU reference: %i heads, %i kv heads, head_dim %i, %i splits', async (heads, kvHeads, oddDim, splits) => {
    const ctx = await context();
    const headDim = dim(oddDim);
    const slotBytes = (kvHeads * 80 * headDim * 4) / (dtype === 'f16' ? 2 : 1);
    const config: KvCacheConfig = { layers: 1, slots: 2, kvHeads, headDim, maxSeq: 80, maxChunkBytes: slotBytes, dtype };
    const cache = new KvCache(ctx, config);
    const lengths = [70, 2];
    const prefills = lengths.map((len, s) => randomStep(new Array(len).fill(s), [...Array(len).keys()], heads, kvHeads, headDim, 180 + s));
    const prefilled: Float32Array[] = [];
    for (const p of prefills) prefilled.push(await runStep(ctx, cache, heads, p, 1, 'serial'));
    // Prefill-shaped calls (70 and 2 tokens, unsplit: what planAttention picks for prefill on
    // barrier-free devices) against the CPU reference over the cache as each call leaves it.
    const cpuSoFar = new KvCacheCpu(config);
    prefills.forEach((p, s) => {
      cpuSoFar.write(p.k, p.v, p.slots, p.positions);
      expect(nmse(prefilled[s], attentionCpu(p.q, cpuSoFar, p.slots, p.positions, heads))).toBeLessThan(bound);
    });
    const decode = randomStep([0, 1], lengths, heads, kvHeads, headDim, 190);
    const got = await runStep(ctx, cache, heads, decode, splits, 'serial');
    const cpu = new KvCacheCpu(config);
    for (const p of prefills) cpu.write(p.k, p.v, p.slots, p.positions);
    cpu.write(decode.k, decode.v, decode.slots, decode.positions);
    expect(nmse(got, attentionCpu(decode.q, cpu, decode.slots, decode.positions, heads))).toBeLessThan(bound);
    const tiled = await runStep(ctx, cache, heads, decode, splits, 'tiled');
    expect(nmse(got, tiled)).toBeLessThan(bound);
    cache.destroy();
  });

  it('reads Q, K and V straight from a fused QKV buffer', async () => {
    const ctx = await context();
    const [heads, kvHeads, headDim, tokens] = [4, 2, dim(3), 4];
    const config: KvCacheConfig = { layers: 1, slots: 1, kvHeads, headDim, maxSeq: 8, dtype };
    const step = randomStep(new Array(tokens).fill(0), [...Array(tokens).keys()], heads, kvHeads, headDim, 5);
    const [qw, kw] = [heads * headDim, kvHeads * headDim];
    const stride = qw + 2 * kw;
    const fused = new Float32Array(tokens * stride);
    for (let t = 0; t < tokens; t++) {
      fused.set(rows(step.q, qw, t, t + 1), t * stride);
      fused.set(rows(step.k, kw, t, t + 1), t * stride + qw);
      fused.set(rows(step.v, kw, t, t + 1), t * stride + qw + kw);
    }
    const cache = new KvCache(ctx, config);
    const qkv = ctx.upload('qkv', fused, 'activations');
    const slots = ctx.upload('slots', new Uint32Array(step.slots), 'activations');
    const positions = ctx.upload('positions', new Uint32Array(step.positions), 'activations');
    const out = ctx.createBuffer('out', tokens * qw * 4, 'activations');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeKvWrite(ctx, pass, { cache, layer: 0, k: qkv, v: qkv, kOffset: qw, vOffset: qw + kw, tokenStride: stride, slots, positions, tokens });
    encodeAttention(ctx, pass, { cache, layer: 0, q: qkv, qTokenStride: stride, out, slots, positions, tokens, heads });
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
    const got = new Float32Array(await ctx.read(out, tokens * qw * 4));
    const cpu = new KvCacheCpu(config);
    cpu.write(step.k, step.v, step.slots, step.positions);
    expect(nmse(got, attentionCpu(step.q, cpu, step.slots, step.positions, heads))).toBeLessThan(bound);
  });
});

describe('KV cache argument checks and f16 rounding', () => {
  it('rejects bad shapes with clear errors', async () => {
    const ctx = await context();
    expect(() => new KvCache(ctx, { layers: 1, slots: 1, kvHeads: 2, headDim: 4, maxSeq: 8, maxChunkBytes: 100 })).toThrow(
      /one slot needs 256 bytes per layer/,
    );
    expect(() => new KvCache(ctx, { layers: 0, slots: 1, kvHeads: 2, headDim: 4, maxSeq: 8 })).toThrow(/layers must be a positive integer/);
    expect(() => new KvCache(ctx, { layers: 1, slots: 1, kvHeads: 2, headDim: 5, maxSeq: 8, dtype: 'f16' })).toThrow(/f16 cache needs an even head_dim, got 5/);
    const cache = new KvCache(ctx, { layers: 1, slots: 1, kvHeads: 2, headDim: 4, maxSeq: 8 });
    const buf = ctx.createBuffer('b', 64 * 4, 'scratch');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    expect(() =>
      encodeAttention(ctx, pass, { cache, layer: 0, q: buf, out: ctx.createBuffer('o', 64 * 4, 'scratch'), slots: buf, positions: buf, tokens: 1, heads: 3 }),
    ).toThrow(/3 query heads is not a positive multiple of 2 kv heads/);
    expect(() =>
      encodeAttention(ctx, pass, { cache, layer: 1, q: buf, out: ctx.createBuffer('o', 64 * 4, 'scratch'), slots: buf, positions: buf, tokens: 1, heads: 2 }),
    ).toThrow(/layer 1 is out of range/);
    pass.end();
  });

  it('suggests splitting only when (token, head) workgroups are few', () => {
    expect(suggestAttentionSplits(8, 16, 4096)).toBe(1);
    expect(suggestAttentionSplits(1, 14, 2000)).toBe(16);
    expect(suggestAttentionSplits(1, 14, 100)).toBe(1);
    // Barrier-free devices: always the serial kernel; calls the tiled kernel would split get ~32
    // keys per range, the others (prefill, or ≤ 128 keys) stay unsplit.
    expect(planAttention(1, 3, 599, true)).toEqual({ kernel: 'serial', splits: 19 });
    expect(planAttention(1, 3, 128, true)).toEqual({ kernel: 'serial', splits: 1 });
    expect(planAttention(1, 3, 129, true)).toEqual({ kernel: 'serial', splits: 5 });
    expect(planAttention(1, 3, 100000, true)).toEqual({ kernel: 'serial', splits: 64 });
    expect(planAttention(64, 2, 599, true)).toEqual({ kernel: 'serial', splits: 1 });
    expect(planAttention(64, 2, 599, false)).toEqual({ kernel: 'tiled', splits: 1 });
    expect(planAttention(1, 14, 2000, false)).toEqual({ kernel: 'tiled', splits: 16 });
  });

  it('checks token slots and positions on the CPU before upload', () => {
    const config = { slots: 2, maxSeq: 8 };
    expect(() => checkTokenPlacement(config, [0, 1], [0, 7])).not.toThrow();
    expect(() => checkTokenPlacement(config, [0, 2], [0, 1])).toThrow(/token 1 has slot 2, outside the cache's 2 slots/);
    expect(() => checkTokenPlacement(config, [0, 1], [8, 1])).toThrow(/token 0 has position 8, outside the context length of 8/);
    expect(() => checkTokenPlacement(config, [0], [0, 1])).toThrow(/1 slots but 2 positions/);
  });

  it('an f16 cache takes half the memory of an f32 one', async () => {
    const ctx = await context();
    const config: KvCacheConfig = { layers: 3, slots: 2, kvHeads: 2, headDim: 8, maxSeq: 16 };
    const before = ctx.memoryReport()['kv-cache'];
    const f32 = new KvCache(ctx, config);
    const afterF32 = ctx.memoryReport()['kv-cache'];
    const f16 = new KvCache(ctx, { ...config, dtype: 'f16' });
    const afterF16 = ctx.memoryReport()['kv-cache'];
    expect(afterF32 - before).toBe(3 * 2 * 2 * (2 * 16 * 8 * 4)); // layers × K,V × slots × slot bytes
    expect(afterF16 - afterF32).toBe((afterF32 - before) / 2);
    f32.destroy();
    f16.destroy();
    expect(ctx.memoryReport()['kv-cache']).toBe(before);
  });

  it('rounds to f16 like IEEE binary16 (nearest, ties to even, subnormals, overflow)', () => {
    expect(roundToF16(1 / 3)).toBe(0.333251953125);
    expect(roundToF16(1 + 2 ** -11)).toBe(1); // tie → even mantissa
    expect(roundToF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie → even mantissa
    expect(roundToF16(-65504)).toBe(-65504);
    expect(roundToF16(65520)).toBe(Infinity);
    expect(roundToF16(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(roundToF16(2 ** -25)).toBe(0); // tie between 0 and 2^-24 → 0
    expect(roundToF16(0.1)).toBe(0.0999755859375);
  });
});
