// Where a model's files come from: the Hugging Face hub (or a mirror, see hub-source.ts), a folder
// the user picked in the browser, or a directory on disk (node-sources.ts). All give the files of
// a Hugging Face-style repository as ByteSources, with progress while bytes arrive.
import { blobSource, bytesSource, type ByteSource } from './byte-source';
import { ModelLoadError } from './errors';

/** The file does not exist in the source (HTTP 404, not in the picked folder). */
export class ModelFileNotFoundError extends ModelLoadError {
  override name = 'ModelFileNotFoundError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FileProgress {
  /** Bytes of this file received so far (monotonic). */
  loaded: number;
  /** From content-length when the server sent it; the file size for cached and local files. */
  total?: number;
  fromCache: boolean;
}

export interface OpenOptions {
  onProgress?: (p: FileProgress) => void;
  signal?: AbortSignal;
}

export interface ModelSource {
  /** Human-readable origin, e.g. "Qwen/Qwen3-0.6B@main from https://huggingface.co". */
  readonly label: string;
  /** Opens one file (path relative to the repository root). Throws ModelFileNotFoundError if absent. */
  open(file: string, options?: OpenOptions): Promise<ByteSource>;
}

export interface DownloadProgress extends FileProgress {
  file: string;
  /** Bytes of all requested files so far (monotonic). */
  overallLoaded: number;
  /** Sum of all file sizes once each is known (or estimated via expectedSizes); else undefined. */
  overallTotal?: number;
  filesDone: number;
  filesTotal: number;
  /** True on the single event for an optional file that does not exist. */
  skipped?: boolean;
}

export interface OpenFilesOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Files that may be absent (e.g. generation_config.json); others must exist. */
  optional?: readonly string[];
  /** Size estimates (e.g. from the registry) so overallTotal is known before each file starts. */
  expectedSizes?: Readonly<Record<string, number>>;
  signal?: AbortSignal;
}

/** Opens files one after another, reporting per-file and overall progress. Absent optional files are left out of the map. */
export async function openModelFiles(source: ModelSource, files: readonly string[], options: OpenFilesOptions = {}): Promise<Map<string, ByteSource>> {
  const opened = new Map<string, ByteSource>();
  const sizes = new Map<string, number | undefined>(files.map((f) => [f, options.expectedSizes?.[f]]));
  let doneBytes = 0;
  let filesDone = 0;
  const overallTotal = () => {
    let sum = 0;
    for (const s of sizes.values()) {
      if (s === undefined) return undefined;
      sum += s;
    }
    return sum;
  };
  for (const file of files) {
    let last: FileProgress = { loaded: 0, fromCache: false };
    const report = (p: FileProgress) => {
      last = p;
      if (p.total !== undefined) sizes.set(file, p.total);
      options.onProgress?.({ file, ...p, overallLoaded: doneBytes + p.loaded, overallTotal: overallTotal(), filesDone, filesTotal: files.length });
    };
    try {
      const bytes = await source.open(file, { onProgress: report, signal: options.signal });
      // The final event per file: its true size, counted as done.
      sizes.set(file, bytes.size);
      filesDone++;
      report({ loaded: bytes.size, total: bytes.size, fromCache: last.fromCache });
      doneBytes += bytes.size;
      opened.set(file, bytes);
    } catch (e) {
      if (e instanceof ModelFileNotFoundError && options.optional?.includes(file)) {
        sizes.set(file, 0);
        filesDone++;
        options.onProgress?.({
          file,
          loaded: 0,
          total: 0,
          fromCache: false,
          skipped: true,
          overallLoaded: doneBytes,
          overallTotal: overallTotal(),
          filesDone,
          filesTotal: files.length,
        });
        continue;
      }
      throw e;
    }
  }
  return opened;
}

/** Files already in memory, e.g. makeTinyModel(...).files for the offline smoke run. */
export class MemoryModelSource implements ModelSource {
  constructor(
    private readonly files: ReadonlyMap<string, Uint8Array>,
    readonly label = 'in-memory model',
  ) {}

  async open(file: string, options?: OpenOptions): Promise<ByteSource> {
    const bytes = this.files.get(file);
    if (!bytes) throw new ModelFileNotFoundError(file, `${file}: not found in ${this.label}`);
    options?.onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength, fromCache: false });
    return bytesSource(file, bytes);
  }
}

/**
 * Files the user picked in the browser: `<input type="file" webkitdirectory>` (paths come from
 * webkitRelativePath, whose first segment is the picked folder's name) or plain File objects.
 */
export class LocalFilesSource implements ModelSource {
  private readonly byPath = new Map<string, File>();

  constructor(
    files: Iterable<File>,
    readonly label = 'local folder',
  ) {
    for (const f of files) {
      const rel = f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : f.name;
      this.byPath.set(rel || f.name, f);
    }
  }

  get files(): string[] {
    return [...this.byPath.keys()].sort();
  }

  async open(file: string, options?: OpenOptions): Promise<ByteSource> {
    const f = this.byPath.get(file);
    if (!f) throw new ModelFileNotFoundError(file, `${file}: not found in ${this.label} (it has ${this.files.slice(0, 8).join(', ') || 'no files'})`);
    options?.onProgress?.({ loaded: f.size, total: f.size, fromCache: false });
    return blobSource(file, f);
  }
}
