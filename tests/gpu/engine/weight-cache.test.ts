// The quantized-weight cache in the real load path (Node + Dawn, a folder on disk as the store):
// a reload uploads cached q4/q8 bytes without calling the quantizer and gives bit-identical
// logits; another format or a changed tensor misses; a damaged entry is re-quantized and
// overwritten; f32 and f16 never touch the cache.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QwenEngine } from '../../../src/engine/engine';
import type { GpuContext } from '../../../src/engine/gpu/context';
import type { WeightLoadProgress } from '../../../src/engine/model/qwen-weights';
import { packWeight } from '../../../src/engine/quant/pack';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { MemoryByteCache, type ByteCache } from '../../../src/hf-io/cache';
import { loadModel } from '../../../src/hf-io/load-model';
import { FsByteCache } from '../../../src/hf-io/node-sources';
import { MemoryModelSource } from '../../../src/hf-io/sources';
import { EngineHost } from '../../../src/worker-api/engine-host';
import type { WorkerEvent } from '../../../src/worker-api/protocol';
import { makeTinyModel } from '../../../models/tiny-model';
import { getTestDevice, testContext } from '../../helpers/gpu';

// Count every call of the quantizer while keeping its real behaviour.
vi.mock('../../../src/engine/quant/pack', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/engine/quant/pack')>();
  return { ...actual, packWeight: vi.fn(actual.packWeight) };
});

const IDS = [1, 5, 42, 7, 300, 11, 511];
// Untied Qwen2 (q/k/v biases): embedding, lm_head and 4 fused matrices per layer.
const MATRICES = 2 + 2 * 4;

describe('quantized-weight cache in the load path', () => {
  let ctx: GpuContext;
  let dir: string;
  const tiny = makeTinyModel({ arch: 'qwen2', tie: false, dtype: 'BF16' });
  beforeAll(async () => {
    ctx = await testContext();
    dir = await mkdtemp(join(tmpdir(), 'asp-weight-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Loads `files`, runs one forward pass (unless `forward` is false), frees the engine; reports quantizer calls and progress. */
  async function load(files: Map<string, Uint8Array>, format: WeightFormat, weightCache?: ByteCache, maxChunkBytes?: number, forward = true) {
    const model = await loadModel(new MemoryModelSource(files));
    vi.mocked(packWeight).mockClear();
    const progress: WeightLoadProgress[] = [];
    const engine = await QwenEngine.create(ctx, model.config, model.checkpoint, {
      format,
      maxContext: 16,
      maxBatch: 1,
      weightCache,
      maxChunkBytes,
      onProgress: (p) => progress.push(p),
    });
    try {
      const quantizerCalls = vi.mocked(packWeight).mock.calls.filter((c) => c[3] === 'q4' || c[3] === 'q8').length;
      const [logits] = forward ? await engine.logits([IDS]) : [new Float32Array(0)];
      return { logits, quantizerCalls, progress, stats: engine.weights.cacheStats };
    } finally {
      engine.destroy();
    }
  }

  const sameBits = (a: Float32Array, b: Float32Array) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const entryPath = (key: string) => join(dir, createHash('sha256').update(key).digest('hex'));

  let reference: Float32Array;

  it('a second q4 load reads every matrix from the cache, never quantizes, and gives bit-identical logits', async () => {
    const store = new FsByteCache(dir);
    const uncached = await load(tiny.files, 'q4', undefined, 2048);
    expect(uncached.quantizerCalls).toBeGreaterThanOrEqual(MATRICES); // per chunk of 2048 bytes: more calls than matrices
    expect(uncached.stats).toBeUndefined();

    const first = await load(tiny.files, 'q4', store);
    expect(first.quantizerCalls).toBe(MATRICES);
    expect(first.stats).toEqual({ hits: 0, misses: MATRICES, rejected: [], storeFailures: [] });
    expect(await store.list()).toHaveLength(MATRICES);
    const second = await load(tiny.files, 'q4', store, 2048); // small chunks: cached bytes re-split on upload
    expect(second.quantizerCalls).toBe(0);
    expect(second.stats).toEqual({ hits: MATRICES, misses: 0, rejected: [], storeFailures: [] });

    expect(sameBits(first.logits, uncached.logits)).toBe(true);
    expect(sameBits(second.logits, first.logits)).toBe(true);
    reference = first.logits;

    // Progress says which matrices came from the cache; norms and biases carry no flag.
    const flag = (r: ReturnType<typeof load> extends Promise<infer T> ? T : never, name: string) => r.progress.find((p) => p.name === name)?.fromCache;
    for (const [run, expected] of [
      [first, false],
      [second, true],
    ] as const) {
      expect(flag(run, 'model.embed_tokens.weight')).toBe(expected);
      expect(flag(run, 'model.layers.1.self_attn.k_proj.weight')).toBe(expected);
      expect(flag(run, 'model.layers.0.input_layernorm.weight')).toBeUndefined();
      expect(flag(run, 'model.layers.0.self_attn.q_proj.bias')).toBeUndefined();
      expect(run.progress.at(-1)).toMatchObject({ done: run.progress.length, total: run.progress.length });
    }
    expect(flag(uncached, 'model.embed_tokens.weight')).toBe(false);
  });

  it('another format, or a changed tensor in the weight file, misses the cache', async () => {
    const store = new FsByteCache(dir);
    const q8 = await load(tiny.files, 'q8', store);
    expect(q8.quantizerCalls).toBe(MATRICES);
    expect(q8.stats!.misses).toBe(MATRICES);
    expect(sameBits(q8.logits, reference)).toBe(false);
    expect((await load(tiny.files, 'q8', store)).quantizerCalls).toBe(0);

    // Same file, one byte of one tensor changed: only the matrix built from it is quantized again.
    const model = await loadModel(new MemoryModelSource(tiny.files));
    const info = model.checkpoint.info('model.layers.1.mlp.up_proj.weight');
    const changed = tiny.files.get('model.safetensors')!.slice();
    changed[info.offset + 101] ^= 0x04;
    const files = new Map(tiny.files).set('model.safetensors', changed);
    const edited = await load(files, 'q4', store);
    expect(edited.quantizerCalls).toBe(1);
    expect(edited.stats).toMatchObject({ hits: MATRICES - 1, misses: 1, rejected: [] });
    expect(sameBits(edited.logits, reference)).toBe(false);
    expect(sameBits(edited.logits, (await load(files, 'q4')).logits)).toBe(true);
  });

  it('a corrupted or truncated entry is detected, quantized again with identical logits, and overwritten', async () => {
    const store = new FsByteCache(dir);
    const keys = (await store.list()).filter((k) => k.includes('/q4/'));
    const embedding = keys.find((k) => k.includes('/model.embed_tokens.weight/'))!;
    const qkv = keys.find((k) => k.includes(`/${encodeURIComponent('model.layers.0.self_attn.qkv_proj.weight')}/`))!;
    const bytes = await readFile(entryPath(embedding));
    bytes[bytes.byteLength >> 1] ^= 0x01; // inside the packed data
    await writeFile(entryPath(embedding), bytes);
    await truncate(entryPath(qkv), 64);

    const repaired = await load(tiny.files, 'q4', store);
    expect(repaired.quantizerCalls).toBe(2);
    expect(repaired.stats!.rejected).toEqual([
      expect.stringMatching(/embed_tokens.*data hash mismatch/),
      expect.stringMatching(/qkv_proj.*(truncated|bytes, expected)/),
    ]);
    expect(sameBits(repaired.logits, reference)).toBe(true);
    const again = await load(tiny.files, 'q4', store);
    expect(again.quantizerCalls).toBe(0);
    expect(sameBits(again.logits, reference)).toBe(true);
  });

  it.each(['f32', 'f16'] as const)('%s loads bypass the cache', async (format) => {
    const calls: string[] = [];
    const fs = new FsByteCache(dir);
    const spy: ByteCache = {
      get: async (key) => {
        calls.push('get');
        return fs.get(key);
      },
      put: async (key, data) => {
        calls.push('put');
        return fs.put(key, data);
      },
      delete: (key) => fs.delete(key),
      list: () => fs.list(),
    };
    const run = await load(tiny.files, format, spy, undefined, false);
    expect(calls).toEqual([]);
    expect(run.stats).toBeUndefined();
    expect(run.progress.every((p) => p.fromCache === undefined)).toBe(true);
  });
});

describe('EngineHost with a weight cache', () => {
  it('says in its upload events that the second load of the tiny model came from the cache', async () => {
    const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device, weightCache: new MemoryByteCache() });
    const flags = async () => {
      const events: WorkerEvent[] = [];
      await host.load({ model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q4', maxContext: 16, maxBatch: 1 }, (e) => events.push(e));
      const uploads = events.filter((e) => e.kind === 'upload');
      return [...new Set(uploads.map((e) => e.fromCache))];
    };
    try {
      expect(await flags()).toEqual([false, undefined]); // the embedding comes first, then norms and matrices
      expect(await flags()).toEqual([true, undefined]);
      expect(host.model!.engine.weights.cacheStats).toMatchObject({ misses: 0, rejected: [] });
    } finally {
      host.unload();
    }
  });
});
