// Files of a Hugging Face hub repository (or a mirror with the same URL layout), downloaded with
// progress and cached. A file enters the cache only after its whole body arrived, its length
// matches content-length and it parses (safetensors header / JSON), so an interrupted download
// can never leave a corrupt entry behind.
import { BlobAccumulator, blobSource, type ByteSource } from './byte-source';
import type { ByteCache } from './cache';
import { ModelLoadError } from './errors';
import { parseHeaderLength, parseSafetensorsHeader } from './safetensors';
import { ModelFileNotFoundError, type ModelSource, type OpenOptions } from './sources';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubSourceOptions {
  /** "owner/name", e.g. "Qwen/Qwen3-0.6B". */
  repo: string;
  /** Branch, tag or commit; default "main". Pin a commit so cached files cannot go stale. */
  revision?: string;
  /** Default https://huggingface.co; any server with /{repo}/resolve/{revision}/{file} works. */
  baseUrl?: string;
  /** Without one, every open downloads again. */
  cache?: ByteCache;
  fetch?: typeof fetch;
  /** Called when storing a verified file fails (e.g. quota); the load still succeeds. */
  onCacheError?: (file: string, error: unknown) => void;
}

const REPO_PATTERN = /^[\w.-]+\/[\w.-]+$/;

export class HubSource implements ModelSource {
  readonly repo: string;
  readonly revision: string;
  readonly baseUrl: string;
  private readonly cache?: ByteCache;
  private readonly fetchImpl: typeof fetch;
  private readonly onCacheError: (file: string, error: unknown) => void;

  constructor(options: HubSourceOptions) {
    if (!REPO_PATTERN.test(options.repo) || options.repo.split('/').some((seg) => /^\.+$/.test(seg)))
      throw new ModelLoadError(`invalid hub repository id "${options.repo}" (expected owner/name)`);
    this.repo = options.repo;
    this.revision = options.revision ?? 'main';
    if (!this.revision || /\.\./.test(this.revision)) throw new ModelLoadError(`invalid revision "${this.revision}"`);
    this.baseUrl = (options.baseUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
    if (!/^https?:\/\//.test(this.baseUrl)) throw new ModelLoadError(`hub base URL must start with http:// or https://, got "${this.baseUrl}"`);
    this.cache = options.cache;
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    this.onCacheError = options.onCacheError ?? ((file, e) => console.warn(`could not cache ${file}: ${(e as Error)?.message ?? e}`));
  }

  get label(): string {
    return `${this.repo}@${this.revision} from ${this.baseUrl}`;
  }

  fileUrl(file: string): string {
    if (!file || file.split('/').some((seg) => !seg || seg === '.' || seg === '..')) throw new ModelLoadError(`invalid file path "${file}"`);
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.baseUrl}/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${path}`;
  }

  async open(file: string, options: OpenOptions = {}): Promise<ByteSource> {
    const url = this.fileUrl(file);
    const cached = await this.cache?.get(url, file);
    if (cached) {
      options.onProgress?.({ loaded: cached.size, total: cached.size, fromCache: true });
      return cached;
    }
    const body = await this.download(file, url, options);
    const downloaded = blobSource(file, body);
    await verify(file, url, downloaded);
    if (!this.cache) return downloaded;
    try {
      await this.cache.put(url, body);
      // Read back through the cache, so the caller's handle is the stored copy.
      return (await this.cache.get(url, file)) ?? downloaded;
    } catch (e) {
      this.onCacheError(file, e);
      return downloaded;
    }
  }

  private async download(file: string, url: string, { onProgress, signal }: OpenOptions): Promise<Blob> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, { signal });
    } catch (e) {
      if (signal?.aborted) throw e; // the caller cancelled: not a network problem
      throw new ModelLoadError(`${file}: request to ${url} failed: ${(e as Error)?.message ?? e}`);
    }
    if (response.status === 404) throw new ModelFileNotFoundError(file, `${file}: not found (HTTP 404) at ${url}`);
    if (!response.ok) throw new ModelLoadError(`${file}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${url}`);
    const lengthHeader = response.headers.get('content-length');
    const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
    if (!response.body) throw new ModelLoadError(`${file}: response from ${url} has no body`);
    const body = new BlobAccumulator();
    let loaded = 0;
    onProgress?.({ loaded, total, fromCache: false });
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body.push(value);
        loaded += value.byteLength;
        onProgress?.({ loaded, total, fromCache: false });
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ModelLoadError(
        `${file}: download cut off after ${loaded}${total !== undefined ? ` of ${total}` : ''} bytes from ${url} (${(e as Error)?.message ?? e})`,
      );
    } finally {
      reader.releaseLock();
    }
    // More bytes than content-length happens with compressed transfer (the header counts encoded
    // bytes); fewer always means the body was cut.
    if (total !== undefined && loaded < total) {
      throw new ModelLoadError(`${file}: download truncated: received ${loaded} of ${total} bytes from ${url}`);
    }
    return body.finish();
  }
}

/** Refuses bodies that are obviously not the file (an HTML error page, a cut safetensors). */
async function verify(file: string, url: string, source: ByteSource) {
  try {
    if (file.endsWith('.safetensors')) {
      const length = parseHeaderLength(file, await source.read(0, Math.min(8, source.size)), source.size);
      parseSafetensorsHeader(file, await source.read(8, length), source.size);
    } else if (file.endsWith('.json')) {
      JSON.parse(new TextDecoder().decode(await source.read(0, source.size)));
    }
  } catch (e) {
    const why = e instanceof ModelLoadError ? e.message : `not valid JSON (${(e as Error).message})`;
    throw new ModelLoadError(`${file}: downloaded from ${url} but failed verification, not cached: ${why}`);
  }
}
