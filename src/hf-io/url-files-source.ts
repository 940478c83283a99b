// A model whose files are served at known URLs of the app's own origin: the models committed in
// this repository (registry source "bundled"), which the build serves as its own assets. No hub
// layout, no download cache of its own: the app's service worker keeps these files for offline use.
import { bytesSource, type ByteSource } from './byte-source';
import { ModelLoadError } from './errors';
import { ModelFileNotFoundError, type ModelSource, type OpenOptions } from './sources';

export class UrlFilesSource implements ModelSource {
  private readonly urls: Map<string, string>;
  private readonly fetchImpl: typeof fetch;

  constructor(
    files: readonly { name: string; url: string }[],
    readonly label: string,
    fetchImpl?: typeof fetch,
  ) {
    this.urls = new Map(files.map((f) => [f.name, f.url]));
    // The global fetch must be called unbound (as a method of this object it throws "Illegal invocation").
    this.fetchImpl = fetchImpl ?? ((input, init) => fetch(input, init));
  }

  async open(file: string, options?: OpenOptions): Promise<ByteSource> {
    const url = this.urls.get(file);
    if (!url) throw new ModelFileNotFoundError(file, `${file}: not among the files of ${this.label} (${[...this.urls.keys()].join(', ')})`);
    let response: Response;
    try {
      response = await this.fetchImpl(url, { signal: options?.signal });
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      throw new ModelLoadError(`${this.label}: ${file} could not be fetched from ${url} (${(e as Error).message})`);
    }
    if (response.status === 404) throw new ModelFileNotFoundError(file, `${this.label}: ${file} is not served (HTTP 404 at ${url})`);
    if (!response.ok) throw new ModelLoadError(`${this.label}: ${file}: HTTP ${response.status} at ${url}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    options?.onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength, fromCache: false });
    return bytesSource(file, bytes);
  }
}
