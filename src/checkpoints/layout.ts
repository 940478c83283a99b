// How tensors become IndexedDB records. All tensors of a checkpoint (adapter, then AdamW m, then
// v) are laid end to end in one byte stream, cut into chunks of `chunkBytes` (the last is
// shorter). Small LoRA tensors thus share records (a 1.5B-model adapter has ~400 tensors but
// ~50 chunks at 4 MiB), and no single record gets large enough to strain the browser's IPC.
// The manifest keeps each tensor's place in the stream.
import { CheckpointCorruptError } from './errors';
import type { TensorMap } from './types';

export type TensorRole = 'adapter' | 'adam_m' | 'adam_v';
export const TENSOR_ROLES: readonly TensorRole[] = ['adapter', 'adam_m', 'adam_v'];

/** Where one tensor lives in the checkpoint's byte stream. */
export interface TensorEntry {
  role: TensorRole;
  name: string;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

export interface PackedTensors {
  entries: TensorEntry[];
  totalBytes: number;
  chunks: ArrayBuffer[];
}

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Size limits a stored manifest must respect before load() allocates anything: a damaged record
 * declaring a 2^33-element tensor is refused by name instead of failing with a RangeError. A
 * LoRA checkpoint of a 1.5B model (r = 16, 7 modules, adapter + two AdamW moments) is ~0.2 GB.
 */
export const MAX_TENSOR_BYTES = 2 ** 30;
export const MAX_CHECKPOINT_BYTES = 2 ** 32;
export const MAX_TENSORS = 100_000;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function planLayout(groups: Record<TensorRole, TensorMap>): { entries: TensorEntry[]; totalBytes: number } {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const role of TENSOR_ROLES) {
    for (const [name, t] of Object.entries(groups[role])) {
      const byteLength = t.data.byteLength;
      entries.push({ role, name, shape: [...t.shape], byteOffset: offset, byteLength });
      offset += byteLength;
    }
  }
  return { entries, totalBytes: offset };
}

/** Copies the tensors into chunk buffers (one copy: IndexedDB clones them again on put). */
export function packTensors(groups: Record<TensorRole, TensorMap>, chunkBytes: number): PackedTensors {
  const { entries, totalBytes } = planLayout(groups);
  const chunks: ArrayBuffer[] = [];
  for (let start = 0; start < totalBytes; start += chunkBytes) chunks.push(new ArrayBuffer(Math.min(chunkBytes, totalBytes - start)));
  for (const e of entries) {
    const t = groups[e.role][e.name].data;
    const src = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    copyAcrossChunks(src, e.byteOffset, chunks, chunkBytes);
  }
  return { entries, totalBytes, chunks };
}

function copyAcrossChunks(src: Uint8Array, streamOffset: number, chunks: ArrayBuffer[], chunkBytes: number) {
  let done = 0;
  while (done < src.byteLength) {
    const at = streamOffset + done;
    const chunk = Math.floor(at / chunkBytes);
    const within = at - chunk * chunkBytes;
    const n = Math.min(src.byteLength - done, chunkBytes - within);
    new Uint8Array(chunks[chunk], within, n).set(src.subarray(done, done + n));
    done += n;
  }
}

export function chunkCountFor(totalBytes: number, chunkBytes: number): number {
  return Math.ceil(totalBytes / chunkBytes);
}

export function expectedChunkLength(index: number, totalBytes: number, chunkBytes: number): number {
  return Math.min(chunkBytes, totalBytes - index * chunkBytes);
}

/**
 * Rebuilds tensors chunk by chunk (so each chunk can be dropped once copied). Call `add` with the
 * chunks in index order, then `finish`. Every chunk's length is checked against the layout; a
 * missing or wrong-sized chunk is reported with the tensors it holds.
 */
export class TensorAssembler {
  readonly tensors: Record<TensorRole, TensorMap> = { adapter: {}, adam_m: {}, adam_v: {} };
  private views: { entry: TensorEntry; bytes: Uint8Array }[];
  private next = 0;

  constructor(
    private readonly label: string,
    private readonly entries: TensorEntry[],
    private readonly totalBytes: number,
    private readonly chunkBytes: number,
  ) {
    this.views = entries.map((entry) => {
      let data: Float32Array;
      try {
        data = new Float32Array(entry.byteLength / 4);
      } catch {
        throw new CheckpointCorruptError(`${label}: cannot allocate ${entry.byteLength} bytes for tensor '${entry.role}/${entry.name}' (out of memory)`);
      }
      // Tensor names are data: '__proto__' must become a tensor, not the map's prototype.
      Object.defineProperty(this.tensors[entry.role], entry.name, {
        value: { shape: [...entry.shape], data },
        writable: true,
        enumerable: true,
        configurable: true,
      });
      return { entry, bytes: new Uint8Array(data.buffer) };
    });
  }

  add(index: number, value: unknown) {
    if (index !== this.next) throw this.damaged(this.next, 'is missing');
    const expected = expectedChunkLength(index, this.totalBytes, this.chunkBytes);
    if (!(value instanceof ArrayBuffer) && Object.prototype.toString.call(value) !== '[object ArrayBuffer]') {
      throw this.damaged(index, 'is not binary data');
    }
    const buffer = value as ArrayBuffer;
    if (buffer.byteLength !== expected) throw this.damaged(index, `has ${buffer.byteLength} bytes, expected ${expected}`);
    const start = index * this.chunkBytes;
    const chunk = new Uint8Array(buffer);
    for (const { entry, bytes } of this.views) {
      const from = Math.max(start, entry.byteOffset);
      const to = Math.min(start + buffer.byteLength, entry.byteOffset + entry.byteLength);
      if (from < to) bytes.set(chunk.subarray(from - start, to - start), from - entry.byteOffset);
    }
    this.next++;
  }

  finish(): Record<TensorRole, TensorMap> {
    const count = chunkCountFor(this.totalBytes, this.chunkBytes);
    if (this.next !== count) throw this.damaged(this.next, 'is missing');
    return this.tensors;
  }

  private damaged(index: number, what: string): CheckpointCorruptError {
    const start = index * this.chunkBytes;
    const end = start + this.chunkBytes;
    const hit = this.entries.filter((e) => e.byteOffset < end && e.byteOffset + e.byteLength > start).map((e) => `${e.role}/${e.name}`);
    const names =
      hit.length === 0
        ? 'no tensor'
        : `tensor ${hit
            .slice(0, 3)
            .map((n) => `'${n}'`)
            .join(', ')}${hit.length > 3 ? ` and ${hit.length - 3} more` : ''}`;
    return new CheckpointCorruptError(`${this.label}: data chunk ${index} ${what} (holds ${names})`);
  }
}
