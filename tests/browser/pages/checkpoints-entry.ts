// Page entry for tests/browser/checkpoints-idb.test.ts, bundled with esbuild: exposes the
// checkpoint store, driven against Chromium's real IndexedDB, as `window.checkpointTest`.
import { wrap, type IDBPDatabase } from 'idb';
import { CheckpointStore, computeModelIdentity, DEFAULT_DB_NAME, type CheckpointSummary, type StorageReport } from '../../../src/checkpoints';
import { FIXTURE_IDENTITY, makeCheckpoint, type FixtureOptions } from './checkpoint-fixture';
import { loadDifference } from './checkpoint-compare';

const CHUNK_BYTES = 16 * 1024;

function store(hooks?: ConstructorParameters<typeof CheckpointStore>[0]) {
  return new CheckpointStore({ chunkBytes: CHUNK_BYTES, ...hooks });
}

async function rawDb(): Promise<IDBPDatabase> {
  return (await wrap(indexedDB.open(DEFAULT_DB_NAME))) as unknown as IDBPDatabase;
}

function errorText(e: unknown): string {
  return `${(e as Error).name}: ${(e as Error).message}`;
}

const api = {
  async save(opts: FixtureOptions): Promise<CheckpointSummary> {
    return store().save(makeCheckpoint(opts));
  },
  async list(): Promise<CheckpointSummary[]> {
    return store().list();
  },
  /** Loads a checkpoint and compares it, bit for bit, with the fixture regenerated from `opts`. */
  async loadDifference(id: string, opts: FixtureOptions): Promise<string | undefined> {
    return loadDifference(store(), id, opts);
  },
  /** Saves with a transaction aborted after half the chunks; returns the error. */
  async saveAbortedHalfway(opts: FixtureOptions): Promise<string> {
    const s = store({
      testHooks: {
        beforeChunkPut: ({ index, count }, tx) => {
          if (index === Math.floor(count / 2)) tx.abort();
        },
      },
    });
    return s.save(makeCheckpoint(opts)).then(() => 'saved', errorText);
  },
  /**
   * Starts a save whose transaction never commits: from the middle chunk on, a chain of reads
   * keeps it busy. The test then closes the tab, as if it died mid-write.
   */
  startSaveThatHangs(opts: FixtureOptions): void {
    const hangs = store({
      testHooks: {
        beforeChunkPut: ({ index, count }, tx) => {
          if (index !== Math.floor(count / 2)) return;
          const spin = () => {
            tx.objectStore('manifests').count().onsuccess = spin;
          };
          spin();
          (window as unknown as { halfway: boolean }).halfway = true;
        },
      },
    });
    void hangs.save(makeCheckpoint(opts)).catch(() => {});
  },
  async saveQuotaExceeded(opts: FixtureOptions): Promise<string> {
    const s = store({
      testHooks: {
        beforeChunkPut: ({ index }) => {
          if (index === 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        },
      },
    });
    return s.save(makeCheckpoint(opts)).then(() => 'saved', errorText);
  },
  /**
   * Saves and reports the outcome as text. With `precheck` false the store gets no storage
   * estimator, so the write itself runs into the browser's quota.
   */
  async trySave(opts: FixtureOptions, precheck: boolean): Promise<string> {
    const s = precheck ? store() : store({ storage: null });
    return s.save(makeCheckpoint(opts)).then((r) => `saved ${r.name}`, errorText);
  },
  async estimate(): Promise<{ usage: number; quota: number }> {
    const e = await navigator.storage.estimate();
    return { usage: e.usage ?? -1, quota: e.quota ?? -1 };
  },
  async chunkIds(): Promise<string[]> {
    const db = await rawDb();
    const keys = (await db.getAllKeys('chunks')) as [string, number][];
    db.close();
    return [...new Set(keys.map((k) => k[0]))].sort();
  },
  async rename(id: string, name: string): Promise<CheckpointSummary> {
    return store().rename(id, name);
  },
  async delete(id: string): Promise<void> {
    return store().delete(id);
  },
  async storageReport(): Promise<StorageReport> {
    return store().storageReport();
  },
  async resumeOnOtherModel(id: string): Promise<string> {
    return store()
      .resume(id, { ...FIXTURE_IDENTITY, revision: 'other' })
      .then(() => 'loaded', errorText);
  },
  /** Runs save + load in a dedicated worker (the store must work there too). */
  async roundTripInWorker(opts: FixtureOptions): Promise<{ id?: string; difference?: string; error?: string }> {
    const worker = new Worker('./checkpoints-worker.js', { type: 'module' });
    try {
      return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
        worker.postMessage(opts);
      });
    } finally {
      worker.terminate();
    }
  },
  /** Fingerprint of a deterministic 3 MiB fake weight file, with the browser's SubtleCrypto. */
  async identityOf(size: number): Promise<unknown> {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
    return computeModelIdentity({ repo: 'r/m', revision: 'main', configJson: '{"a":1}', weightFiles: [{ name: 'w.safetensors', bytes }] });
  },
};

export type CheckpointTestApi = typeof api;
(window as unknown as { checkpointTest: CheckpointTestApi }).checkpointTest = api;
(window as unknown as { ready: boolean }).ready = true;
