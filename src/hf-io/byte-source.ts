// Random access to the bytes of one file, so a multi-GB checkpoint is read tensor by tensor
// (Blob.slice in browsers, positioned reads in Node) instead of being held in memory whole.
import { ModelLoadError } from './errors';

export interface ByteSource {
  /** File name for error messages (e.g. "model-00001-of-00002.safetensors"). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; throws if that runs past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(source: ByteSource, offset: number, length: number) {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new ModelLoadError(`${source.name}: read of ${length} bytes at offset ${offset} is outside the file (${source.size} bytes)`);
  }
}

export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  const source: ByteSource = {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(source, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return source;
}

/** A Blob or File (local folder pick, Cache API response body): only the slices read are loaded. */
export function blobSource(name: string, blob: Blob): ByteSource {
  const source: ByteSource = {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(source, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
  return source;
}

/** Reads a whole source (for small files such as config.json). */
export async function readAll(source: ByteSource): Promise<Uint8Array> {
  return source.read(0, source.size);
}

export async function readText(source: ByteSource): Promise<string> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readAll(source));
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`${source.name}: not valid UTF-8 text`);
  }
}

/**
 * Collects a download into a Blob, folding chunks in every `spillBytes`. Browsers keep large Blobs
 * in their blob store (on disk when big), so the JS heap never holds more than one spill's worth,
 * and the file is never held twice: the chunks are dropped as soon as they are folded in.
 */
export class BlobAccumulator {
  private blob = new Blob([]);
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly spillBytes = 16 * 1024 * 1024) {}

  push(chunk: Uint8Array) {
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= this.spillBytes) this.fold();
  }

  finish(): Blob {
    this.fold();
    return this.blob;
  }

  private fold() {
    if (this.pending.length === 0) return;
    this.blob = new Blob([this.blob, ...(this.pending as Uint8Array<ArrayBuffer>[])]);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
