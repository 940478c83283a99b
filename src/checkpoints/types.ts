// Types of the checkpoint store. The trainer (GRPO + LoRA) fills a `CheckpointData` and gets it
// back, bit-identical, from `CheckpointStore.load`. Everything except the Float32Array payloads is
// plain JSON, so manifests stay readable in the browser's devtools.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** One float tensor, row-major. `data.length` must equal the product of `shape`. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/**
 * Tensors keyed by PEFT-style names, e.g.
 * `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight` (shape [rank, in]) and
 * `...lora_B.weight` (shape [out, rank]), as in a PEFT adapter_model.safetensors.
 */
export type TensorMap = Record<string, TensorData>;

/** The LoRA hyper-parameters, as in PEFT's adapter_config.json (r, lora_alpha, target_modules). */
export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Module names as PEFT lists them: "q_proj", "k_proj", ..., "down_proj". */
  targetModules: string[];
  dropout?: number;
}

/** AdamW moments keyed like the adapter (same names, same shapes), plus the step count. */
export interface OptimizerState {
  /** Number of optimizer updates applied so far (AdamW's bias-correction t). */
  step: number;
  m: TensorMap;
  v: TensorMap;
}

/** State of the trainer's seeded generator (e.g. mulberry32: one uint32 word). */
export interface RngState {
  algorithm: string;
  /** Unsigned 32-bit words. */
  state: number[];
}

/** One record of the metrics history (reward, loss, KL, refusal rate...), one per training step. */
export interface MetricsRecord {
  step: number;
  [key: string]: JsonValue;
}

/**
 * Which base model an adapter was trained on. The fingerprint scheme is described in
 * model-identity.ts; two identities match when repo, revision, config hash and weights hash match.
 */
export interface ModelIdentity {
  /** Hugging Face repo id ("Qwen/Qwen2.5-0.5B-Instruct"), or a label for a local folder. */
  repo: string;
  /** Commit sha or branch the files came from ("main", "local"...). */
  revision: string;
  /** Hex SHA-256 of config.json's bytes. */
  configSha256: string;
  /** Hex SHA-256 over the per-file fingerprints below (see model-identity.ts). */
  weightsSha256: string;
  files: WeightFileFingerprint[];
  /** Version of the fingerprint definition, so a future change cannot silently compare equal. */
  scheme: 'sampled-v1';
}

export interface WeightFileFingerprint {
  name: string;
  size: number;
  /** 'sampled': header + first/last MiB + size (our scheme); 'sha256': full-file hash given by the caller. */
  method: 'sampled' | 'sha256';
  /** Hex SHA-256. */
  digest: string;
}

/** What the trainer hands to `CheckpointStore.save`. */
export interface CheckpointData {
  /** User-visible label; need not be unique (the store assigns ids). */
  name: string;
  /** Training step the checkpoint was taken at. */
  step: number;
  baseModel: ModelIdentity;
  lora: LoraConfig;
  adapter: TensorMap;
  optimizer: OptimizerState;
  rng: RngState;
  trainerConfig: JsonObject;
  metrics: MetricsRecord[];
}

/** A row of the Checkpoints tab. */
export interface CheckpointSummary {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  step: number;
  baseModel: { repo: string; revision: string };
  /** Bytes of tensor data stored (adapter + optimizer moments), what the checkpoint costs. */
  byteSize: number;
  /** Set when the manifest cannot be read (newer schema, damaged record): it can only be deleted. */
  problem?: string;
}

/** What `CheckpointStore.load` returns. */
export interface LoadedCheckpoint extends CheckpointData {
  summary: CheckpointSummary;
}

/** For the Checkpoints tab: what checkpoints use, and the browser's view of the origin's storage. */
export interface StorageReport {
  checkpointCount: number;
  checkpointBytes: number;
  /** From navigator.storage.estimate(); absent where the API is missing or fails. */
  origin?: { usageBytes: number; quotaBytes: number };
}
