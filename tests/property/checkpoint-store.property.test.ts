// Property tests (fast-check, fixed seeds) of the IndexedDB checkpoint store on fake-indexeddb
// under injected failures and damaged records (issue #12). Properties and bounds:
//  - a save that fails at a random chunk (QuotaExceededError at put, a thrown error, an aborted
//    transaction) or at commit (the transaction aborts with QuotaExceededError after every put
//    succeeded) rejects with a CheckpointError, stores nothing, and leaves every earlier
//    checkpoint whole: listed, bit-identical on load, no orphan chunks (40 runs, < 2 s each);
//  - a manifest damaged at any field (sizes, shapes, offsets, names, a 2^33-element tensor) is
//    listed with a problem or loads; load() throws only CheckpointErrors; the other checkpoint
//    still loads (60 runs, < 1 s each);
//  - arbitrary tensor names, prototype members included, round-trip (40 runs, < 1 s each).
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { wrap, type IDBPDatabase } from 'idb';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointError, CheckpointQuotaError, CheckpointStore, DEFAULT_DB_NAME, type CheckpointData } from '../../src/checkpoints';
import { makeCheckpoint, tensorMapDifference } from '../browser/pages/checkpoint-fixture';
import { within } from './helpers';

const setOwn = (o: object, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });

async function rawDb(factory: IDBFactory): Promise<IDBPDatabase> {
  return (await wrap(factory.open(DEFAULT_DB_NAME))) as unknown as IDBPDatabase;
}

async function expectWhole(store: CheckpointStore, factory: IDBFactory, kept: Map<string, CheckpointData>) {
  const rows = await store.list();
  expect(rows.map((r) => r.id).sort()).toEqual([...kept.keys()].sort());
  expect(rows.every((r) => r.problem === undefined)).toBe(true);
  for (const [id, data] of kept) {
    const back = await store.load(id, { expectedBaseModel: 'any' });
    expect(tensorMapDifference(back.adapter, data.adapter)).toBeUndefined();
    expect(tensorMapDifference(back.optimizer.m, data.optimizer.m)).toBeUndefined();
    expect(tensorMapDifference(back.optimizer.v, data.optimizer.v)).toBeUndefined();
  }
  const db = await rawDb(factory);
  const chunkIds = new Set((await db.getAllKeys('chunks')).map((k) => (k as [string, number])[0]));
  const detailIds = await db.getAllKeys('details');
  db.close();
  expect([...chunkIds].sort()).toEqual([...kept.keys()].sort());
  expect(detailIds.map(String).sort()).toEqual([...kept.keys()].sort());
}

type Failure = { kind: 'quota-at-put' | 'throw-at-put' | 'abort-at-put' | 'quota-at-commit'; at: number };
const failure: fc.Arbitrary<Failure> = fc.record({
  kind: fc.constantFrom('quota-at-put', 'throw-at-put', 'abort-at-put', 'quota-at-commit'),
  at: fc.nat(1000),
});

/** A store whose next save fails as `f` says (later saves succeed). */
function failingStore(factory: IDBFactory, f: Failure): CheckpointStore {
  let armed = true;
  return new CheckpointStore({
    indexedDB: factory,
    storage: null,
    chunkBytes: 256,
    testHooks: {
      beforeChunkPut: ({ index, count }, tx) => {
        if (!armed) return;
        const at = f.kind === 'quota-at-commit' ? count - 1 : f.at % count;
        if (index !== at) return;
        armed = false;
        if (f.kind === 'quota-at-put') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        if (f.kind === 'throw-at-put') throw new Error('tab died');
        if (f.kind === 'abort-at-put') {
          tx.abort();
          return;
        }
        // At commit: every put has run; the browser then aborts the transaction for lack of space.
        const raw = tx as unknown as { dispatchEvent(e: Event): boolean; _state: string; _abort(name: string): void };
        const dispatch = raw.dispatchEvent.bind(raw);
        raw.dispatchEvent = (e: Event) => {
          if (e.type !== 'complete') return dispatch(e);
          raw._state = 'active';
          raw._abort('QuotaExceededError');
          return true;
        };
      },
    },
  });
}

describe('property: the checkpoint store under injected failures', () => {
  it('a failed save stores nothing and keeps every earlier checkpoint whole (40 runs, seed 1209)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(failure, { minLength: 1, maxLength: 2 }), fc.nat(3), async (failures, seed) => {
        const factory = new IDBFactory();
        const kept = new Map<string, CheckpointData>();
        const good = new CheckpointStore({ indexedDB: factory, storage: null, chunkBytes: 256 });
        const first = makeCheckpoint({ name: 'earlier', seed: seed + 1 });
        kept.set((await good.save(first)).id, first);
        for (const [i, f] of failures.entries()) {
          await within(2000, async () => {
            const store = failingStore(factory, f);
            const doomed = makeCheckpoint({ name: `doomed ${i}`, seed: seed + 10 + i, layers: 3 });
            const error = await store.save(doomed).then(
              () => null,
              (e: unknown) => e,
            );
            expect(error).toBeInstanceOf(CheckpointError);
            if (f.kind === 'quota-at-put' || f.kind === 'quota-at-commit') expect(error).toBeInstanceOf(CheckpointQuotaError);
            else expect((error as Error).message).toMatch(new RegExp(`^Checkpoint 'doomed ${i}' was not saved \\(nothing was written\\)`));
            await expectWhole(store, factory, kept);
            // The store stays usable: the next save succeeds.
            const next = makeCheckpoint({ name: `next ${i}`, seed: seed + 20 + i });
            kept.set((await store.save(next)).id, next);
            await store.close();
          });
        }
        await expectWhole(good, factory, kept);
        await good.close();
      }),
      { seed: 1209, numRuns: 40 },
    );
  });
});

const hostileField = fc.oneof(
  fc.constantFrom(
    null,
    -1,
    0,
    1.5,
    2 ** 33,
    2 ** 35,
    2 ** 53,
    Number.NaN,
    '',
    '__proto__',
    'constructor',
    [],
    {},
    [2 ** 33],
    [2 ** 17, 2 ** 16],
    [0],
    ['4'],
    { toString: 'x' },
    10n,
  ),
  fc.json({ maxDepth: 2 }).map((t) => JSON.parse(t) as unknown),
);

describe('property: damaged manifests', () => {
  it('are listed with a problem or load; load throws only CheckpointErrors; the other checkpoint loads (60 runs, seed 1210)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom(
              'totalBytes',
              'chunkBytes',
              'chunkCount',
              'tensors',
              'tensor.shape',
              'tensor.byteLength',
              'tensor.byteOffset',
              'tensor.name',
              'tensor.role',
              'name',
              'step',
              'schemaVersion',
              'baseModel',
            ),
            fc.nat(),
            hostileField,
          ),
          { minLength: 1, maxLength: 3 },
        ),
        async (edits) => {
          const factory = new IDBFactory();
          const store = new CheckpointStore({ indexedDB: factory, storage: null, chunkBytes: 256 });
          const victim = await store.save(makeCheckpoint({ name: 'victim', seed: 2 }));
          const otherData = makeCheckpoint({ name: 'other', seed: 3 });
          const other = await store.save(otherData);
          const db = await rawDb(factory);
          const m = await db.get('manifests', victim.id);
          for (const [field, pick, value] of edits) {
            if (field.startsWith('tensor.')) {
              if (Array.isArray(m.tensors) && m.tensors.length && m.tensors[pick % m.tensors.length] && typeof m.tensors[pick % m.tensors.length] === 'object')
                setOwn(m.tensors[pick % m.tensors.length], field.slice(7), value);
            } else setOwn(m, field, value);
          }
          await db.put('manifests', m);
          db.close();
          await within(1000, async () => {
            const rows = await store.list();
            expect(rows.map((r) => r.id).sort()).toEqual([victim.id, other.id].sort());
            await store.load(victim.id, { expectedBaseModel: 'any' }).catch((e: unknown) => expect(e).toBeInstanceOf(CheckpointError));
            const back = await store.load(other.id, { expectedBaseModel: 'any' });
            expect(tensorMapDifference(back.adapter, otherData.adapter)).toBeUndefined();
          });
          await store.close();
        },
      ),
      { seed: 1210, numRuns: 60 },
    );
  });

  it('a manifest declaring a 2^33-element tensor is refused by name, before anything is allocated', async () => {
    const factory = new IDBFactory();
    const store = new CheckpointStore({ indexedDB: factory, storage: null, chunkBytes: 256 });
    const victim = await store.save(makeCheckpoint({ name: 'victim', seed: 2 }));
    const kept = makeCheckpoint({ name: 'kept', seed: 4 });
    const keptId = (await store.save(kept)).id;
    const db = await rawDb(factory);
    const m = await db.get('manifests', victim.id);
    const t = m.tensors[0];
    t.shape = [2 ** 17, 2 ** 16];
    const grow = 2 ** 35 - t.byteLength;
    t.byteLength = 2 ** 35;
    for (const later of m.tensors.slice(1)) later.byteOffset += grow;
    m.totalBytes += grow;
    m.chunkCount = Math.ceil(m.totalBytes / m.chunkBytes);
    await db.put('manifests', m);
    db.close();
    const problem = `manifest declares ${m.totalBytes} bytes of tensors, over the limit of ${2 ** 32}`;
    await within(1000, async () => {
      expect((await store.list()).find((r) => r.id === victim.id)?.problem).toBe(problem);
      await expect(store.load(victim.id, { expectedBaseModel: 'any' })).rejects.toThrow(
        new CheckpointCorruptError(`Checkpoint 'victim' cannot be loaded: ${problem}`),
      );
    });
    expect(tensorMapDifference((await store.load(keptId, { expectedBaseModel: 'any' })).adapter, kept.adapter)).toBeUndefined();
    // Under the total limit but over the per-tensor one, the tensor is named.
    const db2 = await rawDb(factory);
    const m2 = await db2.get('manifests', victim.id);
    m2.totalBytes = 2 ** 31 + 4;
    m2.chunkCount = Math.ceil(m2.totalBytes / m2.chunkBytes);
    m2.tensors = [{ role: 'adapter', name: 'big', shape: [2 ** 29 + 1], byteOffset: 0, byteLength: 2 ** 31 + 4 }];
    await db2.put('manifests', m2);
    db2.close();
    await expect(store.load(victim.id, { expectedBaseModel: 'any' })).rejects.toThrow(
      `tensor 'adapter/big' has shape [${2 ** 29 + 1}], over the limit of ${2 ** 30} bytes per tensor`,
    );
    await store.close();
  });
});

describe('property: tensor names are data', () => {
  it('arbitrary names, prototype members included, round-trip bit-identically (40 runs, seed 1211)', async () => {
    const name = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'), fc.string({ minLength: 1, maxLength: 12 }));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), async (names) => {
        const data = makeCheckpoint({ name: 'named', seed: 5 });
        for (const [i, n] of names.entries()) {
          if (/\.lora_[AB]\.weight$/.test(n) || Object.prototype.hasOwnProperty.call(data.adapter, n)) continue;
          const t = () => ({ shape: [2, i + 1], data: new Float32Array(2 * (i + 1)).fill(i + 0.5) });
          setOwn(data.adapter, n, t());
          setOwn(data.optimizer.m, n, t());
          setOwn(data.optimizer.v, n, t());
        }
        const factory = new IDBFactory();
        const store = new CheckpointStore({ indexedDB: factory, storage: null, chunkBytes: 256 });
        await within(1000, async () => {
          const back = await store.load((await store.save(data)).id, { expectedBaseModel: 'any' });
          expect(Object.keys(back.adapter).sort()).toEqual(Object.keys(data.adapter).sort());
          expect(tensorMapDifference(back.adapter, data.adapter)).toBeUndefined();
          expect(tensorMapDifference(back.optimizer.v, data.optimizer.v)).toBeUndefined();
        });
        await store.close();
      }),
      { seed: 1211, numRuns: 40 },
    );
  });

  it('a tensor named like a prototype member, missing from a moment, is refused by name', async () => {
    for (const n of ['constructor', '__proto__', 'toString']) {
      const data = makeCheckpoint({ name: 'bad', seed: 6 });
      setOwn(data.adapter, n, { shape: [1], data: new Float32Array(1) });
      setOwn(data.optimizer.m, n, { shape: [1], data: new Float32Array(1) });
      const store = new CheckpointStore({ indexedDB: new IDBFactory(), storage: null });
      await expect(store.save(data)).rejects.toThrow(`Cannot save checkpoint 'bad': optimizer.v has no entry for adapter tensor '${n}'`);
    }
  });
});
