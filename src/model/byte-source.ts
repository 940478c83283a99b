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

/** A file held as the list of chunks it arrived in (no concatenation, so no second copy). */
export function chunksSource(name: string, chunks: readonly Uint8Array[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const c of chunks) { starts.push(size); size += c.byteLength; }
  const source: ByteSource = {
    name,
    size,
    async read(offset, length) {
      checkRange(source, offset, length);
      const out = new Uint8Array(length);
      let i = upperBound(starts, offset) - 1;
      let filled = 0;
      while (filled < length) {
        const chunk = chunks[i];
        const from = offset + filled - starts[i];
        const n = Math.min(length - filled, chunk.byteLength - from);
        out.set(chunk.subarray(from, from + n), filled);
        filled += n;
        i++;
      }
      return out;
    },
  };
  return source;
}

/** Index of the first element greater than x in an ascending array. */
function upperBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

export function renamed(source: ByteSource, name: string): ByteSource {
  return { name, size: source.size, read: (offset, length) => source.read(offset, length) };
}
