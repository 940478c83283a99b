// The typed message API between the UI (main thread) and the engine worker, which is the single
// owner of the GPUDevice. Every request carries an id; the worker answers with the same id.
// Streaming requests (load, generate) send any number of `event` messages before `result`.
// Everything here is structured-clone data: no classes, no functions.
import type { GpuCapabilities } from '../engine/gpu/capabilities';
import type { WeightFormat } from '../engine/quant/formats';
import type { SamplingOptions, FinishReason } from '../engine/generate';
import type { ChatMessage, ToolSpec } from '../hf-io/chat-template';
import type { TrainingConfig, TrainingMetrics, TrainingProgress, TrainingSample } from './training-types';

/** Where the model comes from. */
export type ModelChoice =
  | { kind: 'hub'; registryId: string; repo: string; revision: string; baseUrl: string }
  /** Files of a folder the user picked (File objects survive postMessage). */
  | { kind: 'local'; files: File[] }
  /** The built-in tiny model: random weights on the real Qwen tokenizer, for offline smoke runs. */
  | { kind: 'tiny'; arch: 'qwen2' | 'qwen3' }
  /** A model committed in this repository (registry source "bundled"), served with the app's own files. */
  | { kind: 'bundled'; registryId: string; label: string; files: { name: string; url: string }[] };

export interface LoadRequest {
  type: 'load';
  model: ModelChoice;
  quant: WeightFormat;
  maxContext: number;
  maxBatch: number;
}
export interface GenerateRequest {
  type: 'generate';
  /** One conversation per sequence, rendered with the model's chat template... */
  conversations?: { messages: ChatMessage[]; tools?: ToolSpec[] }[];
  /** ...or raw prompt ids per sequence. */
  promptIds?: number[][];
  maxNewTokens: number;
  sampling: SamplingOptions;
  stopStrings?: string[];
  /** Qwen3 only: render the prompt with thinking on (default off, as the playground's agent expects). */
  enableThinking?: boolean;
  /**
   * Apply this stored checkpoint's LoRA adapter for this call only (the base model before and
   * after). Refused with 'adapter-mismatch' when it does not fit the loaded model.
   */
  adapter?: { checkpointId: string };
}

/**
 * Stored checkpoints as adapters: 'list' answers AdapterListResult (which fit the loaded model);
 * 'import' reads PEFT files (adapter_config.json + adapter_model.safetensors, or their folder)
 * into a new checkpoint and answers its CheckpointSummary; malformed files store nothing.
 */
export type AdaptersRequest = { type: 'adapters'; op: 'list' } | { type: 'adapters'; op: 'import'; files: File[]; name?: string };

export interface AdapterListItem {
  id: string;
  name: string;
  step: number;
  /** The base model the checkpoint names (for an imported adapter: its adapter_config.json's). */
  baseModel: { repo: string; revision: string };
  /** Whether it can be applied to the loaded model; `problem` says why not. */
  fits: boolean;
  problem?: string;
  /** Imported PEFT adapter: no fingerprint of its base model, so only its shapes were checked. */
  imported: boolean;
  /** Its LoRA rank, when the checkpoint could be read (a resumed run keeps it). */
  rank?: number;
}

export interface AdapterListResult {
  modelLoaded: boolean;
  /** Newest first. */
  items: AdapterListItem[];
}

export type WorkerRequest =
  | { id: number; type: 'capabilities' }
  | ({ id: number } & LoadRequest)
  | ({ id: number } & GenerateRequest)
  | ({ id: number } & AdaptersRequest)
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'unload' }
  | { id: number; type: 'memory' }
  /** Answers { available: true }: the UI probes it to enable the Train tab. */
  | { id: number; type: 'train-status' }
  /** Runs GRPO on the loaded model; events train-metrics / train-sample / train-checkpoint. */
  | { id: number; type: 'train-start'; config: TrainingConfig }
  | { id: number; type: 'train-control'; action: 'pause' | 'resume' | 'stop' };

export type WorkerResponse =
  { id: number; type: 'result'; value: unknown } | { id: number; type: 'event'; event: WorkerEvent } | { id: number; type: 'error'; error: WorkerErrorInfo };

export interface WorkerErrorInfo {
  /** Stable machine-readable code, e.g. 'model-load', 'context-overflow', 'device-lost', 'no-model'. */
  code: string;
  message: string;
}

export type WorkerEvent =
  | {
      kind: 'download';
      file: string;
      loaded: number;
      total?: number;
      overallLoaded: number;
      overallTotal?: number;
      fromCache: boolean;
      bytesPerSecond: number;
      etaSeconds?: number;
    }
  /** fromCache (q8/q4 weights only): true when the packed weight came from the quantized-weight cache, false when quantized now. */
  | { kind: 'upload'; done: number; total: number; tensor: string; format: WeightFormat; fromCache?: boolean }
  | { kind: 'token'; sequence: number; id: number; text: string }
  | { kind: 'device-lost'; reason: string; message: string }
  | { kind: 'train-metrics'; metrics: TrainingMetrics }
  /** Sent once when a run resumes: the checkpoint's earlier steps, oldest first, for the charts. */
  | { kind: 'train-history'; metrics: TrainingMetrics[] }
  | { kind: 'train-sample'; sample: TrainingSample }
  | { kind: 'train-checkpoint'; id: string; step: number }
  /** Inside a step: rollout turn and tokens so far, forward–backward micro-batch k of n, optimizer (throttled). */
  | { kind: 'train-progress'; progress: TrainingProgress };

export interface CapabilitiesResult {
  webgpu: boolean;
  /** Why WebGPU is unavailable, when it is. */
  reason?: string;
  capabilities?: GpuCapabilities;
}

export interface MemoryResult {
  weights: number;
  kvCache: number;
  activations: number;
  other: number;
  total: number;
}

export interface LoadResult {
  label: string;
  /** The registry id of a hub or bundled model (absent for a local folder or the tiny model). */
  registryId?: string;
  architecture: string;
  family: 'qwen2.5' | 'qwen3';
  format: WeightFormat;
  params: number;
  vocabSize: number;
  maxContext: number;
  maxBatch: number;
  memory: MemoryResult;
  /** Seconds spent loading (download + upload/quantization). */
  seconds: number;
}

export interface GenerateResultItem {
  ids: number[];
  text: string;
  logprobs: number[];
  finishReason: FinishReason;
  promptTokens: number;
}

export interface GenerateResult {
  sequences: GenerateResultItem[];
  tokensPerSecond: number;
}
