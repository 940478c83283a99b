// safetensors reader. Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {string: string} }),
// then the data section; offsets are relative to its start.
//
// Like the reference Rust implementation, tensors must tile the data section exactly: sorted by
// offset each begins where the previous ended, the first at 0, the last at the end of the file.
// Gaps and trailing bytes are rejected, so a file can never hide unread bytes, and an overlap is
// reported as an overlap.
import type { ByteSource } from './byte-source';
import { DTYPE_BYTES, isTensorDtype, toFloat32, type TensorDtype } from './dtypes';
import { SafetensorsError } from './errors';

/** Headers larger than this are refused before allocating (real ones are well under 1 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  /** Absolute byte offset of the tensor in the file (header included). */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  fileName: string;
  /** Total file size: 8 + header length + data section. */
  fileSize: number;
  /** Absolute offset where the data section starts. */
  dataStart: number;
  /** In data-offset order. */
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

export interface Tensor {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  /** Raw little-endian bytes, for engines that quantize or upload them directly. */
  bytes: Uint8Array;
}

export function tensorToFloat32(t: Tensor): Float32Array {
  return toFloat32(t.bytes, t.dtype);
}

/** Reads the 8-byte prefix; `fileSize` bounds the header length. */
export function parseHeaderLength(fileName: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError(`${fileName}: file is too short (${fileSize} bytes) to hold the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = Number(view.getBigUint64(0, true));
  if (length > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`${fileName}: header length ${length} is larger than the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file?`);
  }
  if (8 + length > fileSize) {
    throw new SafetensorsError(`${fileName}: header length ${length} runs past the end of the file (${fileSize} bytes)`);
  }
  return length;
}

/** Parses and validates the JSON header. `fileSize` is the whole file's size in bytes. */
export function parseSafetensorsHeader(fileName: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(`${fileName}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${fileName}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(`${fileName}: header must be a JSON object`);
  }
  const dataStart = 8 + headerBytes.byteLength;
  const dataSize = fileSize - dataStart;
  const metadata = parseMetadata(fileName, (json as Record<string, unknown>).__metadata__);
  const tensors: (TensorInfo & { begin: number; end: number })[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    tensors.push(parseEntry(fileName, name, entry, dataStart, dataSize));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: string | undefined;
  for (const t of tensors) {
    if (t.begin < cursor) {
      throw new SafetensorsError(`${fileName}: tensor "${t.name}" (bytes ${t.begin}..${t.end}) overlaps tensor "${previous}" (ends at ${cursor})`);
    }
    if (t.begin > cursor) {
      throw new SafetensorsError(`${fileName}: gap of ${t.begin - cursor} unused bytes before tensor "${t.name}" (data offsets must be contiguous)`);
    }
    cursor = t.end;
    previous = t.name;
  }
  if (cursor !== dataSize) {
    throw new SafetensorsError(
      `${fileName}: data section has ${dataSize} bytes but tensors cover ${cursor}${previous ? ` (last tensor "${previous}")` : ''}; file truncated or has trailing bytes`,
    );
  }
  return {
    fileName,
    fileSize,
    dataStart,
    tensors: tensors.map(({ name, dtype, shape, offset, byteLength }) => ({ name, dtype, shape, offset, byteLength })),
    metadata,
  };
}

function parseMetadata(fileName: string, raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(`${fileName}: "__metadata__" must be an object of strings`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new SafetensorsError(`${fileName}: "__metadata__" value for "${k}" must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(raw as Record<string, string>) };
}

function parseEntry(fileName: string, name: string, entry: unknown, dataStart: number, dataSize: number) {
  const where = `${fileName}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new SafetensorsError(`${where}: entry must be an object with dtype, shape, data_offsets`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isTensorDtype(dtype)) {
    throw new SafetensorsError(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: F32, F16, BF16)`);
  }
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new SafetensorsError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)) {
    throw new SafetensorsError(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) throw new SafetensorsError(`${where}: data_offsets end ${end} is before begin ${begin}`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw new SafetensorsError(
      `${where}: byte length ${end - begin} does not match shape ${JSON.stringify(shape)} × ${DTYPE_BYTES[dtype]} bytes (${dtype}) = ${expected}`,
    );
  }
  if (end > dataSize) {
    throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] are out of bounds of the ${dataSize}-byte data section`);
  }
  return { name, dtype, shape: [...(shape as number[])], offset: dataStart + begin, byteLength: end - begin, begin, end };
}

/** Random access to one safetensors file: header parsed up front, tensors read on demand. */
export class SafetensorsFile {
  private readonly byName: Map<string, TensorInfo>;

  private constructor(
    readonly source: ByteSource,
    readonly header: SafetensorsHeader,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  static async open(source: ByteSource): Promise<SafetensorsFile> {
    const prefix = await source.read(0, Math.min(8, source.size));
    const length = parseHeaderLength(source.name, prefix, source.size);
    const headerBytes = await source.read(8, length);
    return new SafetensorsFile(source, parseSafetensorsHeader(source.name, headerBytes, source.size));
  }

  get name(): string {
    return this.source.name;
  }
  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.byName.get(name);
    if (!info) throw new SafetensorsError(`${this.source.name}: no tensor "${name}"`);
    return info;
  }

  async tensor(name: string): Promise<Tensor> {
    const { dtype, shape, offset, byteLength } = this.info(name);
    return { name, dtype, shape, bytes: await this.source.read(offset, byteLength) };
  }

  /** Yields every tensor in file order, one read at a time. */
  async *tensors(): AsyncGenerator<Tensor> {
    for (const t of this.header.tensors) yield this.tensor(t.name);
  }
}
