// Where downloaded model files are kept so a second load makes no network request. Callers only
// put complete, verified files (see hub-source.ts), so an entry is never a partial download.
import { blobSource, type ByteSource } from './byte-source';

export interface ByteCache {
  /** The cached bytes for `key`, or undefined. `name` labels the source in error messages. */
  get(key: string, name?: string): Promise<ByteSource | undefined>;
  /** Stores a complete, verified file. */
  put(key: string, data: Blob): Promise<void>;
  delete(key: string): Promise<boolean>;
  list(): Promise<string[]>;
}

/** In-memory cache (tests, and a fallback where no persistent storage exists). */
export class MemoryByteCache implements ByteCache {
  private readonly entries = new Map<string, Blob>();

  async get(key: string, name = key) {
    const blob = this.entries.get(key);
    return blob ? blobSource(name, blob) : undefined;
  }
  async put(key: string, data: Blob) {
    this.entries.set(key, data);
  }
  async delete(key: string) {
    return this.entries.delete(key);
  }
  async list() {
    return [...this.entries.keys()];
  }
}

export const DEFAULT_CACHE_NAME = 'asp-models-v1';

/**
 * Browser Cache API storage. Keys must be http(s) URLs (HubSource uses the resolve URL). Reads go
 * through Response.blob(), which the browser backs by disk, so a cached multi-GB file is sliced
 * rather than loaded whole.
 */
export class CacheStorageByteCache implements ByteCache {
  constructor(
    private readonly cacheName = DEFAULT_CACHE_NAME,
    private readonly storage: CacheStorage = caches,
  ) {}

  private open() {
    return this.storage.open(this.cacheName);
  }

  async get(key: string, name = key) {
    const response = await (await this.open()).match(key);
    return response ? blobSource(name, await response.blob()) : undefined;
  }

  async put(key: string, data: Blob) {
    await (await this.open()).put(key, new Response(data, { headers: { 'content-length': String(data.size), 'content-type': 'application/octet-stream' } }));
  }

  async delete(key: string) {
    return (await this.open()).delete(key);
  }

  async list() {
    return (await (await this.open()).keys()).map((r) => r.url);
  }
}
