// The checkpoint store: save / list / rename / delete / load of LoRA training checkpoints in
// IndexedDB, through `idb`. Works on the main thread and in Web Workers (it touches only
// indexedDB and navigator.storage).
//
// IndexedDB schema (database "agent-safety-checkpoints", version 1):
//   manifests  keyPath "id"             StoredManifest: name, createdAt, step, base model identity,
//                                       LoRA config, tensor layout (role, name, shape, byte offset).
//                                       Small, so list() reads only this store.
//   details    keyPath "id"             StoredDetails: optimizer step, RNG state, trainer config,
//                                       metrics history (grows with training; read only on load).
//   chunks     keyPath ["id", "index"]  { id, index, bytes: ArrayBuffer }: the tensors laid end to
//                                       end (adapter, AdamW m, AdamW v) cut into chunks of
//                                       chunkBytes (4 MiB by default); see layout.ts.
//
// Atomicity: save() writes every chunk, the details and the manifest in ONE readwrite
// transaction. IndexedDB commits a transaction entirely or not at all, and a transaction still
// open when the tab dies (or that is aborted, or whose put fails) is rolled back; so a checkpoint
// is whole or absent. All tensor bytes are packed before the transaction opens, because awaiting
// anything but IndexedDB inside it would let it auto-commit half-written. As a second line of
// defence, opening the store sweeps chunks and details whose manifest does not exist (orphans
// that no code path here creates, but an older build or a manual edit could leave). The sweep is
// safe against a save running in another tab: both are readwrite transactions over the same
// stores, so IndexedDB runs them one after the other and the sweep never sees half a save.
//
// Quota: the free space from navigator.storage.estimate() is checked before writing, and a
// QuotaExceededError during the write (a failed put or an aborted commit) becomes a
// CheckpointQuotaError with the sizes; the aborted transaction leaves earlier checkpoints intact.
import { unwrap, wrap, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { CheckpointError, CheckpointModelMismatchError, CheckpointNotFoundError, CheckpointQuotaError, isQuotaExceeded, quotaMessage } from './errors';
import { DEFAULT_CHUNK_BYTES, packTensors, TensorAssembler } from './layout';
import {
  brokenSummary,
  checkpointLabel,
  manifestProblem,
  parseDetails,
  parseManifest,
  SCHEMA_VERSION,
  summarize,
  type StoredDetails,
  type StoredManifest,
} from './manifest';
import { describeModelMismatch } from './model-identity';
import { checkCheckpointData, checkCheckpointName } from './validate-input';
import type { CheckpointData, CheckpointSummary, LoadedCheckpoint, ModelIdentity, StorageReport } from './types';

export const DEFAULT_DB_NAME = 'agent-safety-checkpoints';
const DB_VERSION = 1;

interface StoredChunk {
  id: string;
  index: number;
  bytes: ArrayBuffer;
}

interface CheckpointDB extends DBSchema {
  manifests: { key: string; value: StoredManifest };
  details: { key: string; value: StoredDetails };
  chunks: { key: [string, number]; value: StoredChunk };
}

type Db = IDBPDatabase<CheckpointDB>;
type WriteTx = IDBPTransaction<CheckpointDB, ('manifests' | 'details' | 'chunks')[], 'readwrite'>;

/** The part of navigator.storage the store uses. */
export interface StorageEstimator {
  estimate(): Promise<StorageEstimate>;
}

/** Fault injection for tests: the only way to make a write fail at a chosen point. */
export interface CheckpointStoreTestHooks {
  /** Called inside the write transaction before each chunk is put; throwing aborts the save. */
  beforeChunkPut?(info: { checkpointId: string; index: number; count: number }, transaction: IDBTransaction): void;
}

export interface CheckpointStoreOptions {
  /**
   * Defaults to globalThis.indexedDB. Tests pass a fresh fake-indexeddb factory; its classes must
   * also be the global ones (import 'fake-indexeddb/auto'), because idb checks `instanceof`.
   */
  indexedDB?: IDBFactory;
  dbName?: string;
  /** Defaults to navigator.storage; null means "unknown" (no pre-check, no quota in messages). */
  storage?: StorageEstimator | null;
  chunkBytes?: number;
  now?: () => number;
  testHooks?: CheckpointStoreTestHooks;
}

/** `'any'` skips the base-model check (e.g. to export the adapter without the model loaded). */
export interface LoadOptions {
  expectedBaseModel: ModelIdentity | 'any';
}

const noop = () => {};

function newId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes); // unlike randomUUID, also available outside secure contexts
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class CheckpointStore {
  private readonly factory: IDBFactory;
  private readonly dbName: string;
  private readonly storage: StorageEstimator | null;
  private readonly chunkBytes: number;
  private readonly now: () => number;
  private readonly hooks: CheckpointStoreTestHooks;
  private dbPromise: Promise<Db> | undefined;

  constructor(options: CheckpointStoreOptions = {}) {
    const factory = options.indexedDB ?? globalThis.indexedDB;
    // idb tells requests from other values with `instanceof IDBRequest` etc., so the global classes
    // must exist (and belong to the same implementation as an injected factory).
    if (!factory || typeof globalThis.IDBRequest !== 'function') {
      throw new CheckpointError('IndexedDB is not available here, so checkpoints cannot be stored');
    }
    this.factory = factory;
    this.dbName = options.dbName ?? DEFAULT_DB_NAME;
    this.storage = options.storage === undefined ? (globalThis.navigator?.storage ?? null) : options.storage;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes <= 0 || this.chunkBytes % 4 !== 0) {
      throw new CheckpointError(`chunkBytes must be a positive multiple of 4, got ${this.chunkBytes}`);
    }
    this.now = options.now ?? Date.now;
    this.hooks = options.testHooks ?? {};
  }

  /** Opens the database (once) and sweeps orphaned records. Every method calls it. */
  private db(): Promise<Db> {
    this.dbPromise ??= this.open().catch((e) => {
      this.dbPromise = undefined;
      throw e instanceof CheckpointError ? e : new CheckpointError(`Cannot open the checkpoint database: ${(e as Error)?.message ?? e}`);
    });
    return this.dbPromise;
  }

  private async open(): Promise<Db> {
    // idb's openDB always uses the global indexedDB; this is the same, with our factory.
    const request = this.factory.open(this.dbName, DB_VERSION);
    request.addEventListener('upgradeneeded', () => {
      const raw = request.result;
      if (!raw.objectStoreNames.contains('manifests')) raw.createObjectStore('manifests', { keyPath: 'id' });
      if (!raw.objectStoreNames.contains('details')) raw.createObjectStore('details', { keyPath: 'id' });
      if (!raw.objectStoreNames.contains('chunks')) raw.createObjectStore('chunks', { keyPath: ['id', 'index'] });
    });
    request.addEventListener('blocked', noop);
    const db = (await wrap(request)) as unknown as Db;
    const raw = unwrap(db);
    // Another tab wants a newer schema: step aside rather than block it; the next call reopens.
    raw.addEventListener('versionchange', () => {
      raw.close();
      this.dbPromise = undefined;
    });
    raw.addEventListener('close', () => {
      this.dbPromise = undefined;
    }); // closed by the browser
    await this.sweepOrphans(db);
    return db;
  }

  /** Deletes chunks and details that have no manifest. Returns how many checkpoints' worth. */
  private async sweepOrphans(db: Db): Promise<number> {
    const tx = db.transaction(['manifests', 'details', 'chunks'], 'readwrite');
    const known = new Set(await tx.objectStore('manifests').getAllKeys());
    const orphans = new Set<string>();
    for (const id of await tx.objectStore('details').getAllKeys()) {
      if (!known.has(id)) {
        orphans.add(id);
        tx.objectStore('details').delete(id).catch(noop);
      }
    }
    await deleteChunksWhere(tx, (id) => !known.has(id), orphans);
    await tx.done;
    return orphans.size;
  }

  /** Runs the orphan sweep again (it also runs when the store opens). */
  async sweep(): Promise<number> {
    return this.sweepOrphans(await this.db());
  }

  async save(data: CheckpointData): Promise<CheckpointSummary> {
    checkCheckpointData(data);
    const name = checkCheckpointName(data.name);
    const packed = packTensors({ adapter: data.adapter, adam_m: data.optimizer.m, adam_v: data.optimizer.v }, this.chunkBytes);
    const id = newId();
    const manifest: StoredManifest = {
      schemaVersion: SCHEMA_VERSION,
      id,
      name,
      createdAt: this.now(),
      step: data.step,
      baseModel: structuredClone(data.baseModel),
      lora: structuredClone(data.lora),
      tensors: packed.entries,
      totalBytes: packed.totalBytes,
      chunkBytes: this.chunkBytes,
      chunkCount: packed.chunks.length,
    };
    const details: StoredDetails = {
      id,
      optimizerStep: data.optimizer.step,
      rng: data.rng,
      trainerConfig: data.trainerConfig,
      metrics: data.metrics,
    };
    // JSON length is a fair estimate of the structured-clone size of the small records.
    const neededBytes = packed.totalBytes + JSON.stringify(manifest).length + JSON.stringify(details).length;
    const free = await this.freeBytes();
    if (free !== undefined && free < neededBytes) throw new CheckpointQuotaError(quotaMessage(name, neededBytes, free), neededBytes, free);

    const db = await this.db();
    const tx = db.transaction(['manifests', 'details', 'chunks'], 'readwrite', { durability: 'strict' });
    const done = tx.done;
    done.catch(noop);
    try {
      // Every put is issued before the first await (see the top of this file). Each gets a
      // handler at once: if a later step throws, the aborted puts must not reject unhandled.
      const writes: Promise<unknown>[] = [];
      const issue = (write: Promise<unknown>) => {
        write.catch(noop);
        writes.push(write);
      };
      const chunks = tx.objectStore('chunks');
      packed.chunks.forEach((bytes, index) => {
        this.hooks.beforeChunkPut?.({ checkpointId: id, index, count: packed.chunks.length }, unwrap(tx));
        issue(chunks.put({ id, index, bytes }));
      });
      issue(tx.objectStore('details').put(details));
      issue(tx.objectStore('manifests').put(manifest));
      await Promise.all(writes);
      await done;
    } catch (error) {
      try {
        tx.abort();
      } catch {
        /* already aborted or committed */
      }
      await done.catch(noop);
      throw await this.writeError(error, unwrap(tx).error, name, neededBytes);
    }
    return summarize(manifest);
  }

  private async writeError(error: unknown, txError: DOMException | null, name: string, neededBytes: number): Promise<Error> {
    if (isQuotaExceeded(error) || isQuotaExceeded(txError)) {
      const free = await this.freeBytes();
      return new CheckpointQuotaError(quotaMessage(name, neededBytes, free), neededBytes, free);
    }
    if (error instanceof CheckpointError) return error;
    const cause = (error as Error)?.message ?? String(error);
    return new CheckpointError(`Checkpoint '${name}' was not saved (nothing was written): ${cause}`);
  }

  private async freeBytes(): Promise<number | undefined> {
    const e = await this.estimate();
    return e ? Math.max(0, e.quotaBytes - e.usageBytes) : undefined;
  }

  private async estimate(): Promise<{ usageBytes: number; quotaBytes: number } | undefined> {
    if (!this.storage) return undefined;
    try {
      const { usage, quota } = await this.storage.estimate();
      return typeof usage === 'number' && typeof quota === 'number' ? { usageBytes: usage, quotaBytes: quota } : undefined;
    } catch {
      return undefined; // estimate() can be refused (e.g. some private modes): sizes unknown
    }
  }

  /** All checkpoints, newest first. Unreadable ones are listed with `problem` set. */
  async list(): Promise<CheckpointSummary[]> {
    const db = await this.db();
    const tx = db.transaction('manifests', 'readonly');
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    await tx.done;
    const rows = values.map((raw, i) => {
      const problem = manifestProblem(raw);
      return problem ? brokenSummary(raw, keys[i], problem) : summarize(raw);
    });
    return rows.sort((a, b) => b.createdAt - a.createdAt);
  }

  async rename(id: string, newName: string): Promise<CheckpointSummary> {
    const name = checkCheckpointName(newName);
    const db = await this.db();
    const tx = db.transaction('manifests', 'readwrite');
    const raw = await tx.store.get(id);
    if (!raw) throw new CheckpointNotFoundError(`No checkpoint with id ${id} (deleted in another tab?)`);
    const updated = { ...raw, name };
    await tx.store.put(updated);
    await tx.done;
    const problem = manifestProblem(updated);
    return problem ? brokenSummary(updated, id, problem) : summarize(updated);
  }

  async delete(id: string): Promise<void> {
    const db = await this.db();
    const tx = db.transaction(['manifests', 'details', 'chunks'], 'readwrite');
    if ((await tx.objectStore('manifests').getKey(id)) === undefined) {
      await tx.done;
      throw new CheckpointNotFoundError(`No checkpoint with id ${id} (deleted in another tab?)`);
    }
    tx.objectStore('manifests').delete(id).catch(noop);
    tx.objectStore('details').delete(id).catch(noop);
    await deleteChunksWhere(tx, (chunkId) => chunkId === id, new Set());
    await tx.done;
  }

  /**
   * Reads a checkpoint back, bit-identical. Refuses one made for another base model (unless
   * `expectedBaseModel` is 'any') and reports damaged records by checkpoint and tensor name.
   */
  async load(id: string, options: LoadOptions): Promise<LoadedCheckpoint> {
    const db = await this.db();
    const tx = db.transaction(['manifests', 'details', 'chunks'], 'readonly');
    const raw = await tx.objectStore('manifests').get(id);
    if (!raw) throw new CheckpointNotFoundError(`No checkpoint with id ${id} (deleted in another tab?)`);
    const manifest = parseManifest(raw, id);
    if (options.expectedBaseModel !== 'any') {
      const why = describeModelMismatch(manifest.baseModel, options.expectedBaseModel);
      if (why) {
        throw new CheckpointModelMismatchError(`${checkpointLabel(manifest)} was trained on another base model than the one loaded: ${why}`);
      }
    }
    const details = parseDetails(await tx.objectStore('details').get(id), manifest);
    const assembler = new TensorAssembler(checkpointLabel(manifest), manifest.tensors, manifest.totalBytes, manifest.chunkBytes);
    const chunks = tx.objectStore('chunks');
    for (let index = 0; index < manifest.chunkCount; index++) {
      const chunk = await chunks.get([id, index]); // one at a time: each chunk is dropped once copied
      if (!chunk) break; // finish() reports the missing chunk with the tensors it held
      assembler.add(index, chunk.bytes);
    }
    const tensors = assembler.finish();
    await tx.done;
    return {
      name: manifest.name,
      step: manifest.step,
      baseModel: manifest.baseModel,
      lora: manifest.lora,
      adapter: tensors.adapter,
      optimizer: { step: details.optimizerStep, m: tensors.adam_m, v: tensors.adam_v },
      rng: details.rng,
      trainerConfig: details.trainerConfig,
      metrics: details.metrics,
      summary: summarize(manifest),
    };
  }

  /** Load for resuming training: the same as load() with the current base model's identity. */
  resume(id: string, currentBaseModel: ModelIdentity): Promise<LoadedCheckpoint> {
    return this.load(id, { expectedBaseModel: currentBaseModel });
  }

  async storageReport(): Promise<StorageReport> {
    const rows = await this.list();
    const origin = await this.estimate();
    return {
      checkpointCount: rows.length,
      checkpointBytes: rows.reduce((n, r) => n + r.byteSize, 0),
      ...(origin ? { origin } : {}),
    };
  }

  /** Closes the connection; the next call reopens it. */
  async close(): Promise<void> {
    const pending = this.dbPromise;
    this.dbPromise = undefined;
    if (pending) (await pending.catch(() => undefined))?.close();
  }
}

/**
 * Deletes the chunks whose checkpoint id matches, walking keys only and jumping over the chunks of
 * checkpoints it keeps (cursor.continue to [id, Infinity] lands on the next checkpoint's first
 * chunk), so the cost is one step per kept checkpoint plus one per deleted chunk.
 */
async function deleteChunksWhere(tx: WriteTx, matches: (id: string) => boolean, deletedIds: Set<string>): Promise<void> {
  const store = tx.objectStore('chunks');
  let cursor = await store.openKeyCursor();
  while (cursor) {
    const [id] = cursor.key;
    if (matches(id)) {
      deletedIds.add(id);
      store.delete(cursor.primaryKey).catch(noop);
      cursor = await cursor.continue();
    } else {
      cursor = await cursor.continue([id, Infinity]);
    }
  }
}
