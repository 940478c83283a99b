// Quantized-weight cache: after a q8/q4 weight is quantized, its packed bytes (data + scales) are
// stored, so the next load of the same weights in the same format uploads them without quantizing.
//
// Quantizing is the slow part of a load (about 30 ns per weight on a CPU core: BF16 → f32 → q4),
// while SHA-256 of the source bytes costs a few percent of that, so entries are content-addressed:
//
//   key = SHA-256 of (PACKED_WEIGHTS_VERSION, format, weight name, shape, and for every source
//         tensor fused into the weight: its name, dtype, shape and the SHA-256 of its bytes).
//
// Any change to a tensor therefore misses, wherever the model came from, and a new packed layout
// (a version bump in formats.ts) never reads old entries. f32 and f16 are not cached: f32 is the
// exact path, and an f16 entry would be as large as the BF16 download while saving only a cheap
// conversion.
//
// Entry bytes: "ASPW" | u32 LE header length | header JSON | zero padding to 4 | data | scales.
// The header repeats the key, version, format, shape, byte counts and the SHA-256 of data and of
// scales; a read checks them all, so a truncated, corrupted or misfiled entry is rejected (the
// loader then quantizes again and overwrites it), never uploaded.
import type { ByteCache } from '../../hf-io/cache';
import { dataWordsPerRow, hasScales, PACKED_WEIGHTS_VERSION, scaleWordsFor, type PackedWeight, type WeightFormat } from './formats';

/** Cache API name for the browser's store (keys are the URLs weightKey makes). */
export const WEIGHT_CACHE_NAME = 'asp-quantized-weights-v1';

const KEY_ORIGIN = 'https://quantized-weights.invalid';
const MAGIC = [0x41, 0x53, 0x50, 0x57]; // "ASPW"

/** A source tensor as the checkpoint gives it (raw little-endian bytes). */
export interface SourceTensor {
  name: string;
  dtype: string;
  shape: readonly number[];
  bytes: Uint8Array;
}

export interface WeightCacheStats {
  /** Weights uploaded from the cache. */
  hits: number;
  /** Weights quantized now (absent or rejected entries). */
  misses: number;
  /** Entries found but rejected, with the reason (truncated, hash mismatch, ...). */
  rejected: string[];
  /** Entries that could not be written (e.g. storage quota), with the error. */
  storeFailures: string[];
}

interface EntryHeader {
  version: number;
  key: string;
  format: WeightFormat;
  rows: number;
  cols: number;
  dataBytes: number;
  scaleBytes: number;
  dataSha256: string;
  scalesSha256: string;
}

/** Formats whose packing is worth caching: the quantized ones. */
export function isCachedFormat(format: WeightFormat): boolean {
  return hasScales(format);
}

/** SHA-256 needs crypto.subtle, which browsers expose only in secure contexts (https, localhost). */
export function weightCacheSupported(): boolean {
  return typeof globalThis.crypto?.subtle?.digest === 'function';
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function byteView(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

function expectedBytes(format: WeightFormat, rows: number, cols: number) {
  return { dataBytes: rows * dataWordsPerRow(format, cols) * 4, scaleBytes: hasScales(format) ? scaleWordsFor(rows, cols) * 4 : 0 };
}

/** Words starting at `offset` of `bytes` (copied when not 4-byte aligned). */
function wordsAt(bytes: Uint8Array, offset: number, byteLength: number): Uint32Array {
  const slice = bytes.subarray(offset, offset + byteLength);
  const aligned = slice.byteOffset % 4 === 0 ? slice : slice.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, byteLength / 4);
}

/** One load's view of a ByteCache holding packed weights, with what happened in `stats`. */
export class WeightCache {
  readonly stats: WeightCacheStats = { hits: 0, misses: 0, rejected: [], storeFailures: [] };

  constructor(private readonly store: ByteCache) {}

  /** The cache key of weight `name` [rows, cols] in `format`, packed from `parts` stacked by rows. */
  async key(format: WeightFormat, name: string, rows: number, cols: number, parts: readonly SourceTensor[]): Promise<string> {
    const sources = [];
    for (const p of parts) sources.push([p.name, p.dtype, p.shape, await sha256Hex(p.bytes)]);
    const canonical = JSON.stringify([PACKED_WEIGHTS_VERSION, format, name, rows, cols, sources]);
    const digest = await sha256Hex(new TextEncoder().encode(canonical));
    return `${KEY_ORIGIN}/v${PACKED_WEIGHTS_VERSION}/${format}/${encodeURIComponent(name)}/${digest}`;
  }

  /** The packed weight stored under `key`, or undefined when absent or rejected (see stats). */
  async get(key: string, format: WeightFormat, rows: number, cols: number): Promise<PackedWeight | undefined> {
    try {
      const source = await this.store.get(key);
      if (source) {
        const packed = await decodeEntry(await source.read(0, source.size), key, format, rows, cols);
        this.stats.hits++;
        return packed;
      }
    } catch (e) {
      this.stats.rejected.push(`${key}: ${(e as Error).message}`);
    }
    this.stats.misses++;
    return undefined;
  }

  /** Stores `packed` under `key`, replacing any entry there. A failure is recorded, not thrown:
   *  the weights are already correct, only the next load will quantize again. */
  async put(key: string, packed: PackedWeight): Promise<void> {
    try {
      await this.store.put(key, await encodeEntry(key, packed));
    } catch (e) {
      this.stats.storeFailures.push(`${key}: ${(e as Error).message}`);
    }
  }
}

export async function encodeEntry(key: string, packed: PackedWeight): Promise<Blob> {
  const data = byteView(packed.data);
  const scales = packed.scales ? byteView(packed.scales) : new Uint8Array(0);
  const header: EntryHeader = {
    version: PACKED_WEIGHTS_VERSION,
    key,
    format: packed.format,
    rows: packed.rows,
    cols: packed.cols,
    dataBytes: data.byteLength,
    scaleBytes: scales.byteLength,
    dataSha256: await sha256Hex(data),
    scalesSha256: await sha256Hex(scales),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = new Uint8Array(8);
  prefix.set(MAGIC);
  new DataView(prefix.buffer).setUint32(4, json.byteLength, true);
  const padding = new Uint8Array((4 - ((8 + json.byteLength) % 4)) % 4);
  return new Blob([prefix, json, padding, data, scales] as Uint8Array<ArrayBuffer>[]);
}

/** Parses and checks an entry; throws with the reason when it is not exactly what `key` needs. */
export async function decodeEntry(bytes: Uint8Array, key: string, format: WeightFormat, rows: number, cols: number): Promise<PackedWeight> {
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`not a packed-weight entry (${bytes.byteLength} bytes)`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  if (8 + headerLength > bytes.byteLength) throw new Error(`truncated header (${bytes.byteLength} bytes, header says ${headerLength})`);
  let header: EntryHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new Error('unreadable header');
  }
  const want = expectedBytes(format, rows, cols);
  const fields: (keyof EntryHeader)[] = ['version', 'key', 'format', 'rows', 'cols', 'dataBytes', 'scaleBytes'];
  const expected: Partial<EntryHeader> = { version: PACKED_WEIGHTS_VERSION, key, format, rows, cols, ...want };
  for (const f of fields) {
    if (header[f] !== expected[f]) throw new Error(`header ${f} is ${JSON.stringify(header[f])}, expected ${JSON.stringify(expected[f])}`);
  }
  const dataStart = 8 + headerLength + ((4 - ((8 + headerLength) % 4)) % 4);
  const size = dataStart + want.dataBytes + want.scaleBytes;
  if (bytes.byteLength !== size) throw new Error(`${bytes.byteLength} bytes, expected ${size} (truncated or padded)`);
  const data = wordsAt(bytes, dataStart, want.dataBytes);
  const scales = hasScales(format) ? wordsAt(bytes, dataStart + want.dataBytes, want.scaleBytes) : null;
  if ((await sha256Hex(byteView(data))) !== header.dataSha256) throw new Error('data hash mismatch (corrupted)');
  if ((await sha256Hex(scales ? byteView(scales) : new Uint8Array(0))) !== header.scalesSha256) throw new Error('scales hash mismatch (corrupted)');
  return { format, rows, cols, data, scales };
}
