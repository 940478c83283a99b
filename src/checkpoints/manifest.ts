// The records the store keeps per checkpoint besides the tensor chunks, and their validation on
// read. A manifest is small (names, shapes, offsets) so listing stays fast; the metrics history and
// trainer state, which grow with training, live in a separate `details` record.
import { CheckpointCorruptError } from './errors';
import { chunkCountFor, elementCount, MAX_CHECKPOINT_BYTES, MAX_TENSOR_BYTES, MAX_TENSORS, TENSOR_ROLES, type TensorEntry } from './layout';
import { checkModelIdentityShape, checkShape } from './validate-input';
import type { CheckpointSummary, JsonObject, LoraConfig, MetricsRecord, ModelIdentity, RngState } from './types';

/** Bump when the stored layout changes; older apps then refuse newer checkpoints by name. */
export const SCHEMA_VERSION = 1;

export interface StoredManifest {
  schemaVersion: number;
  id: string;
  name: string;
  createdAt: number;
  step: number;
  baseModel: ModelIdentity;
  lora: LoraConfig;
  tensors: TensorEntry[];
  totalBytes: number;
  chunkBytes: number;
  chunkCount: number;
}

export interface StoredDetails {
  id: string;
  optimizerStep: number;
  rng: RngState;
  trainerConfig: JsonObject;
  metrics: MetricsRecord[];
}

/** A stored value as text for a message, whatever it is (a damaged record may hold anything). */
function show(v: unknown): string {
  try {
    return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

export function checkpointLabel(m: { id?: unknown; name?: unknown }): string {
  return typeof m.name === 'string' ? `Checkpoint '${m.name}'` : `Checkpoint ${show(m.id)}`;
}

/** Returns the problem with a stored manifest, or undefined when it is usable. */
export function manifestProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return 'manifest is not an object';
  const m = raw as Partial<StoredManifest>;
  if (m.schemaVersion !== SCHEMA_VERSION) {
    return typeof m.schemaVersion === 'number' && m.schemaVersion > SCHEMA_VERSION
      ? `saved by a newer version of the app (schema ${m.schemaVersion}, this app reads ${SCHEMA_VERSION})`
      : `unknown manifest schema version ${show(m.schemaVersion)}`;
  }
  if (typeof m.id !== 'string' || typeof m.name !== 'string') return 'manifest has no id or name';
  if (typeof m.createdAt !== 'number' || !Number.isSafeInteger(m.step)) return 'manifest createdAt/step are invalid';
  const identityProblem = checkModelIdentityShape(m.baseModel);
  if (identityProblem) return `manifest ${identityProblem}`;
  if (!m.lora || typeof m.lora.rank !== 'number') return 'manifest has no LoRA config';
  if (!Array.isArray(m.tensors) || !Number.isSafeInteger(m.totalBytes) || !Number.isSafeInteger(m.chunkBytes) || (m.chunkBytes as number) <= 0) {
    return 'manifest tensor layout is missing';
  }
  // Sizes before anything else: load() allocates what the manifest declares.
  if ((m.totalBytes as number) < 0 || (m.totalBytes as number) > MAX_CHECKPOINT_BYTES)
    return `manifest declares ${m.totalBytes} bytes of tensors, over the limit of ${MAX_CHECKPOINT_BYTES}`;
  if (m.tensors.length > MAX_TENSORS) return `manifest lists ${m.tensors.length} tensors, over the limit of ${MAX_TENSORS}`;
  if (m.chunkCount !== chunkCountFor(m.totalBytes as number, m.chunkBytes as number))
    return `manifest chunk count ${show(m.chunkCount)} does not match ${m.totalBytes} bytes`;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of m.tensors) {
    const label = `${show(t?.role)}/${show(t?.name)}`;
    if (!t || !TENSOR_ROLES.includes(t.role) || typeof t.name !== 'string') return `manifest tensor entry '${label}' is malformed`;
    if (seen.has(label)) return `tensor '${label}' is listed twice`;
    seen.add(label);
    if (!checkShape(t.shape)) return `tensor '${label}' has an invalid shape`;
    const bytes = elementCount(t.shape) * 4;
    if (!Number.isSafeInteger(bytes) || bytes > MAX_TENSOR_BYTES) {
      return `tensor '${label}' has shape [${t.shape.join(', ')}], over the limit of ${MAX_TENSOR_BYTES} bytes per tensor`;
    }
    if (t.byteLength !== bytes) {
      return `tensor '${label}' is ${show(t.byteLength)} bytes but shape [${t.shape.join(', ')}] needs ${bytes}`;
    }
    if (t.byteOffset !== offset) return `tensor '${label}' is at byte ${show(t.byteOffset)}, expected ${offset}`;
    offset += t.byteLength;
  }
  if (offset !== m.totalBytes) return `tensors add up to ${offset} bytes, manifest says ${show(m.totalBytes)}`;
  return undefined;
}

export function parseManifest(raw: unknown, fallbackId: string): StoredManifest {
  const problem = manifestProblem(raw);
  if (problem) {
    const label = checkpointLabel({ id: fallbackId, ...(typeof raw === 'object' && raw ? raw : {}) });
    throw new CheckpointCorruptError(`${label} cannot be loaded: ${problem}`);
  }
  return raw as StoredManifest;
}

export function parseDetails(raw: unknown, manifest: StoredManifest): StoredDetails {
  const d = raw as Partial<StoredDetails> | undefined;
  const fail = (what: string) => new CheckpointCorruptError(`${checkpointLabel(manifest)} cannot be loaded: ${what}`);
  if (!d || typeof d !== 'object') throw fail('its trainer state record is missing');
  if (!Number.isSafeInteger(d.optimizerStep)) throw fail('optimizer step is missing');
  if (!d.rng || !Array.isArray(d.rng.state)) throw fail('RNG state is missing');
  if (!d.trainerConfig || typeof d.trainerConfig !== 'object') throw fail('trainer config is missing');
  if (!Array.isArray(d.metrics)) throw fail('metrics history is missing');
  return d as StoredDetails;
}

export function summarize(m: StoredManifest): CheckpointSummary {
  return {
    id: m.id,
    name: m.name,
    createdAt: m.createdAt,
    step: m.step,
    baseModel: { repo: m.baseModel.repo, revision: m.baseModel.revision },
    byteSize: m.totalBytes,
  };
}

/** A row for a manifest that cannot be read: shown so the user can delete it. */
export function brokenSummary(raw: unknown, id: string, problem: string): CheckpointSummary {
  const r = (typeof raw === 'object' && raw ? raw : {}) as Partial<StoredManifest>;
  return {
    id,
    name: typeof r.name === 'string' ? r.name : id,
    createdAt: typeof r.createdAt === 'number' ? r.createdAt : 0,
    step: typeof r.step === 'number' ? r.step : 0,
    baseModel: { repo: show(r.baseModel?.repo ?? '?'), revision: show(r.baseModel?.revision ?? '?') },
    byteSize: typeof r.totalBytes === 'number' ? r.totalBytes : 0,
    problem,
  };
}
