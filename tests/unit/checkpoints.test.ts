// The checkpoint store on fake-indexeddb (each test gets its own fresh IDBFactory): round trips,
// atomicity under mid-write failures, orphan sweep, quota errors, base-model refusal, corruption.
// idb recognizes requests and transactions by `instanceof` against the global IDB classes, so the
// fake's classes are installed globally; each test still gets its own factory (its own databases).
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { IDBFactory } from 'fake-indexeddb';
import { wrap, type IDBPDatabase } from 'idb';
import { beforeEach, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/hf-io/byte-source';
import {
  CheckpointCorruptError,
  CheckpointError,
  CheckpointInputError,
  CheckpointModelMismatchError,
  CheckpointNotFoundError,
  CheckpointQuotaError,
  CheckpointStore,
  computeModelIdentity,
  DEFAULT_DB_NAME,
  peftLoraTensorName,
  type CheckpointData,
  type CheckpointStoreOptions,
  type ModelIdentity,
} from '../../src/checkpoints';
import { isQuotaExceeded } from '../../src/checkpoints/errors';
import { FIXTURE_IDENTITY, makeCheckpoint, tensorMapDifference } from '../browser/pages/checkpoint-fixture';

let factory: IDBFactory;
beforeEach(() => {
  factory = new IDBFactory();
});

const MB = 1024 * 1024;
function store(opts: Partial<CheckpointStoreOptions> = {}) {
  return new CheckpointStore({ indexedDB: factory, storage: null, chunkBytes: 256, ...opts });
}

/** A second, raw connection to the same database, to inspect or damage records. */
async function rawDb(): Promise<IDBPDatabase> {
  return (await wrap(factory.open(DEFAULT_DB_NAME))) as unknown as IDBPDatabase;
}

async function chunkIdsInDb(): Promise<string[]> {
  const db = await rawDb();
  const keys = (await db.getAllKeys('chunks')) as [string, number][];
  db.close();
  return [...new Set(keys.map((k) => k[0]))].sort();
}

function expectSameCheckpoint(loaded: CheckpointData, saved: CheckpointData) {
  expect(tensorMapDifference(loaded.adapter, saved.adapter)).toBeUndefined();
  expect(tensorMapDifference(loaded.optimizer.m, saved.optimizer.m)).toBeUndefined();
  expect(tensorMapDifference(loaded.optimizer.v, saved.optimizer.v)).toBeUndefined();
  expect(loaded.optimizer.step).toBe(saved.optimizer.step);
  expect(loaded.rng).toEqual(saved.rng);
  expect(loaded.trainerConfig).toEqual(saved.trainerConfig);
  expect(loaded.metrics).toEqual(saved.metrics);
  expect(Number.isNaN(loaded.metrics[3].loss)).toBe(true);
  expect(loaded.lora).toEqual(saved.lora);
  expect(loaded.baseModel).toEqual(saved.baseModel);
  expect(loaded.step).toBe(saved.step);
  expect(loaded.name).toBe(saved.name);
}

describe('checkpoint store: round trip, list, rename, delete', () => {
  it('saves and loads everything back bit-identical, with tensors spanning several chunks', async () => {
    const data = makeCheckpoint({ name: 'first', step: 7 });
    const s = store({ now: () => 1_700_000_000_000 });
    const summary = await s.save(data);
    const tensorBytes = [data.adapter, data.optimizer.m, data.optimizer.v].flatMap((map) => Object.values(map)).reduce((n, t) => n + t.data.byteLength, 0);
    expect(summary).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'first',
      createdAt: 1_700_000_000_000,
      step: 7,
      baseModel: { repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' },
      byteSize: tensorBytes,
    });
    expect(tensorBytes).toBeGreaterThan(10 * 256); // really multi-chunk
    expectSameCheckpoint(await s.load(summary.id, { expectedBaseModel: FIXTURE_IDENTITY }), data);
    // A new store object (as after a page reload) on the same database sees it too.
    await s.close();
    const again = store();
    expect(await again.list()).toEqual([summary]);
    expectSameCheckpoint(await again.resume(summary.id, FIXTURE_IDENTITY), data);
  });

  it('round-trips with the default 4 MiB chunks and a tensor larger than a chunk', async () => {
    const data = makeCheckpoint({ name: 'wide', hidden: 1 << 18, rank: 4, layers: 1 }); // lora_A: 4 MiB + more
    const s = store({ chunkBytes: undefined });
    const { id, byteSize } = await s.save(data);
    expect(byteSize).toBeGreaterThan(3 * 4 * MB);
    expectSameCheckpoint(await s.load(id, { expectedBaseModel: 'any' }), data);
  });

  it('lists newest first, renames and deletes (deleting removes all records of that checkpoint only)', async () => {
    let clock = 1000;
    const s = store({ now: () => clock++ });
    const a = await s.save(makeCheckpoint({ name: 'a', seed: 1 }));
    const b = await s.save(makeCheckpoint({ name: 'b', seed: 2, step: 20 }));
    expect((await s.list()).map((r) => [r.name, r.step])).toEqual([
      ['b', 20],
      ['a', 10],
    ]);
    const renamed = await s.rename(a.id, '  better name ');
    expect(renamed.name).toBe('better name');
    expect((await s.list()).map((r) => r.name)).toEqual(['b', 'better name']);
    expect((await s.load(a.id, { expectedBaseModel: 'any' })).name).toBe('better name');
    await expect(s.rename(a.id, '   ')).rejects.toThrow(CheckpointInputError);
    await s.delete(b.id);
    expect((await s.list()).map((r) => r.id)).toEqual([a.id]);
    expect(await chunkIdsInDb()).toEqual([a.id]);
    const db = await rawDb();
    expect(await db.getAllKeys('details')).toEqual([a.id]);
    db.close();
    await expect(s.delete(b.id)).rejects.toThrow(CheckpointNotFoundError);
    await expect(s.load(b.id, { expectedBaseModel: 'any' })).rejects.toThrow(/No checkpoint with id/);
    await expect(s.rename(b.id, 'x')).rejects.toThrow(CheckpointNotFoundError);
    expectSameCheckpoint(await s.load(a.id, { expectedBaseModel: 'any' }), { ...makeCheckpoint({ name: 'better name', seed: 1 }) });
  });

  it('reports storage used by checkpoints and the origin estimate', async () => {
    const estimate = { usage: 5 * MB, quota: 100 * MB };
    const s = store({ storage: { estimate: async () => estimate } });
    const a = await s.save(makeCheckpoint({ name: 'a' }));
    const b = await s.save(makeCheckpoint({ name: 'b', layers: 3 }));
    expect(await s.storageReport()).toEqual({
      checkpointCount: 2,
      checkpointBytes: a.byteSize + b.byteSize,
      origin: { usageBytes: 5 * MB, quotaBytes: 100 * MB },
    });
    expect(await store().storageReport()).toEqual({ checkpointCount: 2, checkpointBytes: a.byteSize + b.byteSize });
  });
});

describe('checkpoint store: atomic writes', () => {
  it('a save that dies halfway (exception in the write path) leaves nothing; earlier checkpoints intact', async () => {
    const earlier = makeCheckpoint({ name: 'earlier', seed: 5 });
    const good = store();
    const kept = await good.save(earlier);
    let seen = 0;
    let total = 0;
    const failing = store({
      testHooks: {
        beforeChunkPut: ({ index, count }) => {
          seen = index;
          total = count;
          if (index === Math.floor(count / 2)) throw new Error('tab died');
        },
      },
    });
    await expect(failing.save(makeCheckpoint({ name: 'doomed', seed: 6 }))).rejects.toThrow(
      "Checkpoint 'doomed' was not saved (nothing was written): tab died",
    );
    expect(total).toBeGreaterThan(4);
    expect(seen).toBe(Math.floor(total / 2));
    expect((await failing.list()).map((r) => r.name)).toEqual(['earlier']);
    expect(await chunkIdsInDb()).toEqual([kept.id]);
    const db = await rawDb();
    expect(await db.getAllKeys('details')).toEqual([kept.id]);
    db.close();
    expectSameCheckpoint(await good.load(kept.id, { expectedBaseModel: 'any' }), earlier);
  });

  it('a transaction aborted after half the chunks were put (connection lost) stores nothing', async () => {
    const s = store();
    const kept = await s.save(makeCheckpoint({ name: 'earlier' }));
    let aborts = 0;
    const aborting = store({
      testHooks: {
        beforeChunkPut: ({ index, count }, tx) => {
          if (aborts === 0 && index === Math.floor(count / 2)) {
            aborts++;
            tx.abort();
          }
        },
      },
    });
    await expect(aborting.save(makeCheckpoint({ name: 'aborted', seed: 9 }))).rejects.toThrow(/Checkpoint 'aborted' was not saved/);
    expect((await aborting.list()).map((r) => r.id)).toEqual([kept.id]);
    expect(await chunkIdsInDb()).toEqual([kept.id]);
    // The store remains usable after a failed save.
    const next = await aborting.save(makeCheckpoint({ name: 'next', seed: 10 }));
    expect((await s.list()).map((r) => r.name).sort()).toEqual(['earlier', 'next']);
    expect(next.byteSize).toBeGreaterThan(0);
  });

  it('sweeps orphaned chunks and details (no manifest) when the store opens, and on demand', async () => {
    const s = store();
    const kept = await s.save(makeCheckpoint({ name: 'kept' }));
    await s.close();
    const db = await rawDb();
    for (let i = 0; i < 3; i++) await db.put('chunks', { id: '0000orphan', index: i, bytes: new ArrayBuffer(16) });
    await db.put('chunks', { id: 'zzzzorphan', index: 0, bytes: new ArrayBuffer(16) });
    await db.put('details', { id: '0000orphan', optimizerStep: 1, rng: { algorithm: 'x', state: [] }, trainerConfig: {}, metrics: [] });
    db.close();
    expect(await chunkIdsInDb()).toEqual(['0000orphan', kept.id, 'zzzzorphan'].sort());
    const reopened = store();
    expect((await reopened.list()).map((r) => r.id)).toEqual([kept.id]);
    expect(await chunkIdsInDb()).toEqual([kept.id]);
    const db2 = await rawDb();
    expect(await db2.getAllKeys('details')).toEqual([kept.id]);
    await db2.put('chunks', { id: 'late-orphan', index: 0, bytes: new ArrayBuffer(4) });
    db2.close();
    expect(await reopened.sweep()).toBe(1);
    expect(await chunkIdsInDb()).toEqual([kept.id]);
    expect((await reopened.load(kept.id, { expectedBaseModel: 'any' })).name).toBe('kept');
  });
});

describe('checkpoint store: quota', () => {
  it('turns a QuotaExceededError mid-write into a clear error and keeps earlier checkpoints', async () => {
    // The pre-check sees room; by the time the write fails, space has gone (another tab wrote).
    const estimates = [
      { usage: 990 * MB, quota: 1000 * MB },
      { usage: 999.5 * MB, quota: 1000 * MB },
    ];
    let calls = 0;
    const storage = { estimate: async () => estimates[Math.min(calls++, 1)] };
    const kept = await store({ storage: null }).save(makeCheckpoint({ name: 'earlier' }));
    const full = store({
      storage,
      testHooks: {
        beforeChunkPut: ({ index }) => {
          if (index === 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        },
      },
    });
    const data = makeCheckpoint({ name: 'big one', layers: 3, hidden: 1024 });
    const error = await full.save(data).catch((e: unknown) => e);
    expect(calls).toBe(2);
    expect(error).toBeInstanceOf(CheckpointQuotaError);
    const q = error as CheckpointQuotaError;
    const tensorBytes = [data.adapter, data.optimizer.m, data.optimizer.v].flatMap((map) => Object.values(map)).reduce((n, t) => n + t.data.byteLength, 0);
    expect(q.neededBytes).toBeGreaterThan(tensorBytes); // tensors plus manifest and trainer state
    expect(q.neededBytes).toBeLessThan(tensorBytes + 64 * 1024);
    expect(q.freeBytes).toBe(0.5 * MB);
    expect(q.message).toBe("Not enough browser storage to save checkpoint 'big one' (needs 0.8 MB, 0.5 MB free). Delete old checkpoints or export them.");
    expect((await full.list()).map((r) => r.id)).toEqual([kept.id]);
    expect(await chunkIdsInDb()).toEqual([kept.id]);
    expectSameCheckpoint(await full.load(kept.id, { expectedBaseModel: 'any' }), makeCheckpoint({ name: 'earlier' }));
    // When the estimate still shows room, the message says the browser refused anyway.
    calls = 0;
    estimates[1] = estimates[0];
    await expect(full.save(data)).rejects.toThrow(
      "Not enough browser storage to save checkpoint 'big one' (needs 0.8 MB, the browser reports 10 MB free but refused the write). Delete old checkpoints or export them.",
    );
  });

  it('refuses up front when the storage estimate shows too little free space, without writing', async () => {
    let putCalls = 0;
    const s = store({
      storage: { estimate: async () => ({ usage: 1000, quota: 1000 + 2048 }) },
      testHooks: {
        beforeChunkPut: () => {
          putCalls++;
        },
      },
    });
    await expect(s.save(makeCheckpoint({ name: 'x' }))).rejects.toThrow(
      /^Not enough browser storage to save checkpoint 'x' \(needs [0-9.]+ MB, 0\.0 MB free\)\. Delete old checkpoints or export them\.$/,
    );
    expect(putCalls).toBe(0);
    expect(await s.list()).toEqual([]);
  });

  it('without an estimate, the quota message says free space is unknown', async () => {
    const s = store({
      storage: { estimate: () => Promise.reject(new Error('not allowed')) },
      testHooks: {
        beforeChunkPut: () => {
          throw new DOMException('full', 'QuotaExceededError');
        },
      },
    });
    await expect(s.save(makeCheckpoint({ name: 'x' }))).rejects.toThrow(/\(needs [0-9.]+ MB, free space unknown\)/);
  });

  it('recognizes quota errors by name and by the legacy code 22 only', () => {
    expect(isQuotaExceeded(new DOMException('x', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaExceeded({ name: 'Error', code: 22 })).toBe(true);
    expect(isQuotaExceeded(new DOMException('x', 'AbortError'))).toBe(false);
    expect(isQuotaExceeded(null)).toBe(false);
  });
});

describe('checkpoint store: base model identity and validation on load', () => {
  it('refuses a checkpoint made for another base model, saying what differs', async () => {
    const s = store();
    const { id } = await s.save(makeCheckpoint({ name: 'qwen05' }));
    const other: ModelIdentity = {
      ...FIXTURE_IDENTITY,
      repo: 'Qwen/Qwen3-0.6B',
      revision: 'abc123',
      weightsSha256: 'd'.repeat(64),
      files: [{ ...FIXTURE_IDENTITY.files[0], digest: 'e'.repeat(64) }],
    };
    const error = await s.resume(id, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointModelMismatchError);
    expect((error as Error).message).toBe(
      "Checkpoint 'qwen05' was trained on another base model than the one loaded: repo 'Qwen/Qwen2.5-0.5B-Instruct' vs 'Qwen/Qwen3-0.6B'; " +
        "revision 'main' vs 'abc123'; weights hash bbbbbbbbbbbb vs dddddddddddd (model.safetensors content differs)",
    );
    const sameRepoOtherConfig = { ...FIXTURE_IDENTITY, configSha256: 'f'.repeat(64) };
    await expect(s.load(id, { expectedBaseModel: sameRepoOtherConfig })).rejects.toThrow(/: config\.json hash aaaaaaaaaaaa vs ffffffffffff$/);
    expect((await s.load(id, { expectedBaseModel: 'any' })).name).toBe('qwen05');
    expect((await s.resume(id, structuredClone(FIXTURE_IDENTITY))).name).toBe('qwen05');
  });

  it('a damaged chunk fails that checkpoint with its name and tensor; others still load', async () => {
    const s = store();
    const good = await s.save(makeCheckpoint({ name: 'good', seed: 1 }));
    const bad = await s.save(makeCheckpoint({ name: 'bad', seed: 2 }));
    const db = await rawDb();
    await db.put('chunks', { id: bad.id, index: 0, bytes: new ArrayBuffer(100) });
    db.close();
    await expect(s.load(bad.id, { expectedBaseModel: 'any' })).rejects.toThrow(
      new CheckpointCorruptError(
        "Checkpoint 'bad': data chunk 0 has 100 bytes, expected 256 (holds tensor 'adapter/base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')",
      ),
    );
    expectSameCheckpoint(await s.load(good.id, { expectedBaseModel: 'any' }), makeCheckpoint({ name: 'good', seed: 1 }));
  });

  it('a missing chunk names the tensors it held', async () => {
    const s = store();
    const saved = await s.save(makeCheckpoint({ name: 'holey' }));
    const db = await rawDb();
    const manifest = await db.get('manifests', saved.id);
    const last = manifest.chunkCount - 1;
    await db.delete('chunks', [saved.id, last]);
    db.close();
    await expect(s.load(saved.id, { expectedBaseModel: 'any' })).rejects.toThrow(
      new RegExp(
        `^Checkpoint 'holey': data chunk ${last} is missing \\(holds tensor 'adam_v/base_model\\.model\\.model\\.layers\\.1\\.mlp\\.down_proj\\.lora_B\\.weight'\\)$`,
      ),
    );
  });

  it('a manifest from a newer schema or with sizes that do not match shapes is listed with a problem and refused', async () => {
    const s = store();
    const newer = await s.save(makeCheckpoint({ name: 'from the future' }));
    const skewed = await s.save(makeCheckpoint({ name: 'skewed', seed: 3 }));
    const fine = await s.save(makeCheckpoint({ name: 'fine', seed: 4 }));
    const db = await rawDb();
    await db.put('manifests', { ...(await db.get('manifests', newer.id)), schemaVersion: 99 });
    const m = await db.get('manifests', skewed.id);
    m.tensors[1].shape = [5, 4];
    await db.put('manifests', m);
    db.close();
    const rows = await s.list();
    expect(rows.find((r) => r.id === newer.id)?.problem).toBe('saved by a newer version of the app (schema 99, this app reads 1)');
    expect(rows.find((r) => r.id === skewed.id)?.problem).toMatch(
      /^tensor 'adapter\/base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_B\.weight' is 384 bytes but shape \[5, 4\] needs 80$/,
    );
    expect(rows.find((r) => r.id === fine.id)?.problem).toBeUndefined();
    await expect(s.load(newer.id, { expectedBaseModel: 'any' })).rejects.toThrow(
      "Checkpoint 'from the future' cannot be loaded: saved by a newer version of the app (schema 99, this app reads 1)",
    );
    await expect(s.load(skewed.id, { expectedBaseModel: 'any' })).rejects.toThrow(CheckpointCorruptError);
    await s.delete(newer.id);
    expect((await s.list()).map((r) => r.name).sort()).toEqual(['fine', 'skewed']);
    expect((await s.load(fine.id, { expectedBaseModel: 'any' })).name).toBe('fine');
  });
});

describe('checkpoint store: input validation on save', () => {
  const cases: [string, (d: CheckpointData) => void, RegExp][] = [
    [
      'length vs shape',
      (d) => {
        d.adapter['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'].data = new Float32Array(3);
      },
      /adapter tensor 'base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight' has 3 values but shape \[4, 24\] needs 96/,
    ],
    [
      'missing moment',
      (d) => {
        delete d.optimizer.v['base_model.model.model.layers.1.mlp.down_proj.lora_B.weight'];
      },
      /optimizer\.v has no entry for adapter tensor 'base_model\.model\.model\.layers\.1\.mlp\.down_proj\.lora_B\.weight'/,
    ],
    [
      'rank mismatch',
      (d) => {
        d.lora.rank = 8;
      },
      /has rank 4 in shape \[4, 24\], lora\.rank is 8/,
    ],
    [
      'unpaired A',
      (d) => {
        delete d.adapter['base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight'];
      },
      /'base_model\.model\.model\.layers\.0\.self_attn\.v_proj\.lora_A\.weight' has no matching '.*v_proj\.lora_B\.weight'/,
    ],
    [
      'not a Float32Array',
      (d) => {
        (d.adapter['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'] as { data: unknown }).data = new Float64Array(96);
      },
      /data is not a Float32Array/,
    ],
    [
      'non-JSON config',
      (d) => {
        (d.trainerConfig as Record<string, unknown>).schedule = () => 1;
      },
      /trainerConfig\.schedule is not JSON data \(function\)/,
    ],
    [
      'bad step',
      (d) => {
        d.step = -1;
      },
      /step must be a non-negative integer/,
    ],
    [
      'bad identity',
      (d) => {
        d.baseModel = { ...d.baseModel, weightsSha256: 'nope' };
      },
      /baseModel hashes are not hex SHA-256/,
    ],
    [
      'bad rng',
      (d) => {
        d.rng = { algorithm: 'mulberry32', state: [2 ** 33] };
      },
      /rng must be/,
    ],
    [
      'empty name',
      (d) => {
        d.name = '';
      },
      /^Checkpoint name is empty$/,
    ],
  ];
  for (const [label, damage, message] of cases) {
    it(`rejects ${label} with a message naming it, and stores nothing`, async () => {
      const s = store();
      const data = makeCheckpoint({ name: 'input' });
      damage(data);
      await expect(s.save(data)).rejects.toThrow(CheckpointInputError);
      await expect(s.save(data)).rejects.toThrow(message);
      expect(await s.list()).toEqual([]);
    });
  }

  it('rejects a bad chunk size and a missing indexedDB', () => {
    expect(() => store({ chunkBytes: 10 })).toThrow(CheckpointError);
    const saved = globalThis.indexedDB;
    try {
      (globalThis as { indexedDB?: IDBFactory }).indexedDB = undefined;
      expect(() => new CheckpointStore({})).toThrow(/IndexedDB is not available/);
    } finally {
      globalThis.indexedDB = saved;
    }
  });
});

describe('computeModelIdentity (sampled-v1 fingerprint)', () => {
  /** A fake safetensors file: 8-byte header length, JSON header, then `dataBytes` of data. */
  function fakeSafetensors(dataBytes: number, seed: number): Uint8Array {
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'U8', shape: [dataBytes], data_offsets: [0, dataBytes] } }));
    const out = new Uint8Array(8 + header.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
    out.set(header, 8);
    for (let i = 8 + header.length; i < out.length; i++) out[i] = (i * 31 + seed) & 0xff;
    return out;
  }
  const config = '{"model_type":"qwen2","hidden_size":64}';
  const base = (files: { name: string; bytes: Uint8Array }[]) =>
    computeModelIdentity({ repo: 'r/m', revision: 'main', configJson: config, weightFiles: files });

  /** The documented definition, recomputed independently with node:crypto. */
  function expectedDigest(file: Uint8Array): string {
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      return b;
    };
    const h = createHash('sha256').update('agent-safety-playground/weights-sampled-v1\0').update(u64(file.length));
    if (file.length <= 2 * MB) return h.update(u64(file.length)).update(file).digest('hex');
    const headerEnd = 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
    for (const part of [file.subarray(0, headerEnd), file.subarray(0, MB), file.subarray(file.length - MB)]) h.update(u64(part.length)).update(part);
    return h.digest('hex');
  }

  it('hashes config.json, the header, the first and last MiB and the size, as documented', async () => {
    const big = fakeSafetensors(3 * MB, 1);
    const small = fakeSafetensors(1000, 2);
    const id = await base([
      { name: 'model-2.safetensors', bytes: small },
      { name: 'model-1.safetensors', bytes: big },
    ]);
    expect(id.configSha256).toBe(createHash('sha256').update(config).digest('hex'));
    expect(id.files).toEqual([
      { name: 'model-1.safetensors', size: big.length, method: 'sampled', digest: expectedDigest(big) },
      { name: 'model-2.safetensors', size: small.length, method: 'sampled', digest: expectedDigest(small) },
    ]);
    const canonical = JSON.stringify(id.files.map((f) => [f.name, f.size, f.method, f.digest]));
    expect(id.weightsSha256).toBe(createHash('sha256').update(canonical).digest('hex'));
    expect(id.scheme).toBe('sampled-v1');
    // Order of files does not matter; a ByteSource gives the same result as bytes.
    const reordered = await computeModelIdentity({
      repo: 'r/m',
      revision: 'main',
      configJson: new TextEncoder().encode(config),
      weightFiles: [
        { name: 'model-1.safetensors', source: bytesSource('x', big) },
        { name: 'model-2.safetensors', bytes: small },
      ],
    });
    expect(reordered).toEqual(id);
  });

  it('changes with the header, head, tail, size and config; not with untouched middle bytes', async () => {
    const file = fakeSafetensors(3 * MB, 1);
    const ref = await base([{ name: 'm.safetensors', bytes: file }]);
    const variant = async (mutate: (b: Uint8Array) => Uint8Array) => (await base([{ name: 'm.safetensors', bytes: mutate(file.slice()) }])).weightsSha256;
    expect(
      await variant((b) => {
        b[20] ^= 1;
        return b;
      }),
    ).not.toBe(ref.weightsSha256); // header
    expect(
      await variant((b) => {
        b[MB - 1] ^= 1;
        return b;
      }),
    ).not.toBe(ref.weightsSha256); // head
    expect(
      await variant((b) => {
        b[b.length - MB] ^= 1;
        return b;
      }),
    ).not.toBe(ref.weightsSha256); // tail
    expect(await variant((b) => b.subarray(0, b.length - 1))).not.toBe(ref.weightsSha256); // size
    expect(
      await variant((b) => {
        b[Math.floor(b.length / 2)] ^= 1;
        return b;
      }),
    ).toBe(ref.weightsSha256); // not sampled
    const otherConfig = await computeModelIdentity({
      repo: 'r/m',
      revision: 'main',
      configJson: config + ' ',
      weightFiles: [{ name: 'm.safetensors', bytes: file }],
    });
    expect(otherConfig.configSha256).not.toBe(ref.configSha256);
    expect(otherConfig.weightsSha256).toBe(ref.weightsSha256);
  });

  it('accepts a known full-file sha256, and rejects bad input by name', async () => {
    const sha = 'AB'.repeat(32);
    const id = await computeModelIdentity({ repo: 'r/m', revision: 'v1', configJson: '{}', weightFiles: [{ name: 'w.safetensors', size: 42, sha256: sha }] });
    expect(id.files).toEqual([{ name: 'w.safetensors', size: 42, method: 'sha256', digest: sha.toLowerCase() }]);
    await expect(computeModelIdentity({ repo: 'r/m', revision: 'v1', configJson: '{}', weightFiles: [{ name: 'w', size: 1, sha256: 'xyz' }] })).rejects.toThrow(
      "weight file 'w' needs bytes, a source, or a 64-digit hex sha256",
    );
    await expect(computeModelIdentity({ repo: 'r/m', revision: 'v1', configJson: '{}', weightFiles: [] })).rejects.toThrow('no weight files given for r/m');
    await expect(computeModelIdentity({ repo: '', revision: 'v1', configJson: '{}', weightFiles: [{ name: 'a', bytes: new Uint8Array(1) }] })).rejects.toThrow(
      'repo is empty',
    );
    const dup = { name: 'a', bytes: new Uint8Array(1) };
    await expect(computeModelIdentity({ repo: 'r', revision: 'v1', configJson: '{}', weightFiles: [dup, dup] })).rejects.toThrow(
      "weight file 'a' is listed twice",
    );
  });

  it('identities computed from different files of the same repo are refused with the file named', async () => {
    const s = store();
    const a = await base([{ name: 'm.safetensors', bytes: fakeSafetensors(3000, 1) }]);
    const b = await base([{ name: 'm.safetensors', bytes: fakeSafetensors(3000, 2) }]);
    const { id } = await s.save(makeCheckpoint({ name: 'on-a', baseModel: a }));
    await expect(s.resume(id, b)).rejects.toThrow(/weights hash [0-9a-f]{12} vs [0-9a-f]{12} \(m\.safetensors content differs\)$/);
    expect((await s.resume(id, a)).baseModel).toEqual(a);
  });
});

describe('peftLoraTensorName', () => {
  it('names LoRA tensors the way PEFT does for Qwen attention and MLP modules', () => {
    expect(peftLoraTensorName(3, 'q_proj', 'A')).toBe('base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight');
    expect(peftLoraTensorName(0, 'down_proj', 'B')).toBe('base_model.model.model.layers.0.mlp.down_proj.lora_B.weight');
    expect(() => peftLoraTensorName(1, 'lm_head', 'A')).toThrow("unknown target module 'lm_head'");
    expect(() => peftLoraTensorName(-1, 'q_proj', 'A')).toThrow('layer -1');
  });
});
