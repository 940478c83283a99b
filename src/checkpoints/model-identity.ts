// Identity of the base model an adapter belongs to: repo, revision, and a fingerprint of
// config.json and the weight files, so a checkpoint is never resumed on top of another model.
//
// Fingerprint ("sampled-v1"). Hashing every byte of a 1-3 GB model with SubtleCrypto means reading
// it all from disk or cache and holding it in memory (SubtleCrypto has no streaming API), which
// takes seconds to minutes on a laptop, every time a model is opened. Instead each weight file
// contributes SHA-256 over:
//   a domain tag, the file size (8 bytes LE), the safetensors header (8-byte length + JSON, which
//   lists every tensor's name, dtype, shape and offset), the first 1 MiB and the last 1 MiB.
// Files of 2 MiB or less are hashed whole. The header pins the architecture and layout; the head
// and tail sample real weight values (the first and last tensors' data), so two different
// trainings of the same architecture differ there with overwhelming likelihood. It is not a
// cryptographic guarantee against a crafted file that changes only middle bytes; that is accepted:
// the purpose is catching honest mistakes (wrong model, other size, other quantization, re-upload).
// Cost: about 2 MiB read per file, independent of model size.
//
// A caller that already knows a file's full SHA-256 (e.g. the hub's LFS oid) may pass it instead;
// that file is then recorded with method 'sha256'. Identities compare equal only when computed the
// same way, so pick one way per source and keep it.
//
// weightsSha256 = SHA-256 of the JSON list of per-file {name, size, method, digest}, sorted by
// name, so the order in which files are passed does not matter.
import type { ByteSource } from '../hf-io/byte-source';
import { CheckpointInputError } from './errors';
import type { ModelIdentity, WeightFileFingerprint } from './types';

export const SAMPLE_BYTES = 1024 * 1024;
const DOMAIN_TAG = 'agent-safety-playground/weights-sampled-v1\0';
const MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024;

export type WeightFileInput =
  | { name: string; bytes: Uint8Array }
  /** Random access: only the header and the sampled megabytes are read. */
  | { name: string; source: ByteSource }
  /** Full-file SHA-256 (hex) known in advance, with the file's size. */
  | { name: string; size: number; sha256: string };

export interface ModelIdentityInput {
  repo: string;
  revision: string;
  /** config.json as text or bytes (hashed byte for byte). */
  configJson: string | Uint8Array;
  weightFiles: WeightFileInput[];
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new CheckpointInputError('SHA-256 is unavailable: crypto.subtle exists only in secure contexts (https:// or http://localhost)');
  }
  return s;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await subtle().digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function u64le(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/** Length-prefixed so that segment boundaries cannot be shifted to forge a collision. */
function segment(bytes: Uint8Array): Uint8Array[] {
  return [u64le(bytes.byteLength), bytes];
}

type Reader = { name: string; size: number; read(offset: number, length: number): Promise<Uint8Array> };

function readerOf(file: WeightFileInput): Reader | undefined {
  if ('source' in file) return { name: file.name, size: file.source.size, read: (o, n) => file.source.read(o, n) };
  if ('bytes' in file) {
    const bytes = file.bytes;
    return { name: file.name, size: bytes.byteLength, read: async (o, n) => bytes.subarray(o, o + n) };
  }
  return undefined;
}

/** The 8-byte length and the JSON header, or nothing when the file is not safetensors-shaped. */
async function safetensorsHeader(file: Reader): Promise<Uint8Array> {
  if (file.size < 8) return new Uint8Array(0);
  const prefix = await file.read(0, 8);
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (length > MAX_SAFETENSORS_HEADER || 8 + length > file.size) return new Uint8Array(0);
  return file.read(0, 8 + length);
}

/** The 'sampled' fingerprint of one file (see the top of this file). */
export async function sampledFileDigest(file: Reader): Promise<string> {
  const parts: Uint8Array[] = [new TextEncoder().encode(DOMAIN_TAG), u64le(file.size)];
  if (file.size <= 2 * SAMPLE_BYTES) {
    parts.push(...segment(await file.read(0, file.size)));
  } else {
    parts.push(...segment(await safetensorsHeader(file)));
    parts.push(...segment(await file.read(0, SAMPLE_BYTES)));
    parts.push(...segment(await file.read(file.size - SAMPLE_BYTES, SAMPLE_BYTES)));
  }
  return sha256Hex(concat(parts));
}

async function fingerprintFile(file: WeightFileInput): Promise<WeightFileFingerprint> {
  if (typeof file.name !== 'string' || file.name === '') throw new CheckpointInputError('computeModelIdentity: a weight file has no name');
  const reader = readerOf(file);
  if (reader) return { name: file.name, size: reader.size, method: 'sampled', digest: await sampledFileDigest(reader) };
  const given = file as { name: string; size: unknown; sha256: unknown };
  if (typeof given.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(given.sha256)) {
    throw new CheckpointInputError(`computeModelIdentity: weight file '${file.name}' needs bytes, a source, or a 64-digit hex sha256`);
  }
  if (!Number.isSafeInteger(given.size) || (given.size as number) < 0) {
    throw new CheckpointInputError(`computeModelIdentity: weight file '${file.name}' has sha256 but no valid size`);
  }
  return { name: file.name, size: given.size as number, method: 'sha256', digest: given.sha256.toLowerCase() };
}

export async function computeModelIdentity(input: ModelIdentityInput): Promise<ModelIdentity> {
  if (typeof input.repo !== 'string' || input.repo === '') throw new CheckpointInputError('computeModelIdentity: repo is empty');
  if (typeof input.revision !== 'string' || input.revision === '') throw new CheckpointInputError('computeModelIdentity: revision is empty');
  if (!Array.isArray(input.weightFiles) || input.weightFiles.length === 0) {
    throw new CheckpointInputError(`computeModelIdentity: no weight files given for ${input.repo}`);
  }
  const names = new Set<string>();
  for (const f of input.weightFiles) {
    if (names.has(f.name)) throw new CheckpointInputError(`computeModelIdentity: weight file '${f.name}' is listed twice`);
    names.add(f.name);
  }
  const config = typeof input.configJson === 'string' ? new TextEncoder().encode(input.configJson) : input.configJson;
  const files: WeightFileFingerprint[] = [];
  for (const f of input.weightFiles) files.push(await fingerprintFile(f)); // one at a time: bounded memory
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const canonical = JSON.stringify(files.map((f) => [f.name, f.size, f.method, f.digest]));
  return {
    repo: input.repo,
    revision: input.revision,
    configSha256: await sha256Hex(config),
    weightsSha256: await sha256Hex(new TextEncoder().encode(canonical)),
    files,
    scheme: 'sampled-v1',
  };
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

/**
 * Why `saved` (the checkpoint's base model) is not `current` (the model loaded now), one clause per
 * difference; undefined when they match.
 */
export function describeModelMismatch(saved: ModelIdentity, current: ModelIdentity): string | undefined {
  const reasons: string[] = [];
  if (saved.scheme !== current.scheme) reasons.push(`fingerprint scheme ${saved.scheme} vs ${current.scheme}`);
  if (saved.repo !== current.repo) reasons.push(`repo '${saved.repo}' vs '${current.repo}'`);
  if (saved.revision !== current.revision) reasons.push(`revision '${saved.revision}' vs '${current.revision}'`);
  if (saved.configSha256 !== current.configSha256) {
    reasons.push(`config.json hash ${short(saved.configSha256)} vs ${short(current.configSha256)}`);
  }
  if (saved.weightsSha256 !== current.weightsSha256)
    reasons.push(`weights hash ${short(saved.weightsSha256)} vs ${short(current.weightsSha256)}${fileDifferences(saved, current)}`);
  return reasons.length ? reasons.join('; ') : undefined;
}

function fileDifferences(saved: ModelIdentity, current: ModelIdentity): string {
  const now = new Map(current.files.map((f) => [f.name, f]));
  const notes: string[] = [];
  for (const f of saved.files) {
    const c = now.get(f.name);
    if (!c) notes.push(`${f.name} missing now`);
    else if (c.method !== f.method) notes.push(`${f.name} fingerprinted as '${f.method}' then, '${c.method}' now; recompute the same way`);
    else if (c.size !== f.size) notes.push(`${f.name} size ${f.size} vs ${c.size}`);
    else if (c.digest !== f.digest) notes.push(`${f.name} content differs`);
  }
  const before = new Set(saved.files.map((f) => f.name));
  for (const f of current.files) if (!before.has(f.name)) notes.push(`${f.name} is new`);
  return notes.length ? ` (${notes.slice(0, 4).join(', ')}${notes.length > 4 ? `, +${notes.length - 4} more` : ''})` : '';
}
