// The engine's size table (llm.c style): every GPU buffer an engine holds (weights, KV cache,
// activations, the inference LoRA scratch) as a named entry with its exact byte size, computed from
// the model config and the engine options alone. GPU-free: the app's memory estimate sums these
// entries, and the allocators (weights.ts, ops/kv-cache.ts, activations.ts, engine.ts) create their
// buffers FROM them by name (see `plannedBuffers`), so a size is written once and the estimate is
// the sum of what is really allocated (tests/gpu/engine/buffer-plan.test.ts checks it on Dawn).
import type { ModelConfig } from '../../hf-io/config';
import type { MemoryCategory } from '../gpu/context';
import { maxAttentionScratchBytes } from '../ops/attention';
import { kvCacheChunks, kvBufferName, type KvCacheShape } from '../ops/kv-cache';
import { SAMPLING_PARAM_WORDS } from '../ops/sampling';
import { dataWordsPerRow, groupsPerRow, hasScales, scaleWordsFor, type WeightFormat } from '../quant/formats';

/** How a buffer is created: a tracked storage buffer of a memory category, or a direct uniform / MAP_READ one. */
export type BufferKind = MemoryCategory | 'uniform' | 'readback';

export interface PlannedBuffer {
  /** The buffer's label; unique within a plan. */
  name: string;
  /** Bytes the buffer really takes (storage buffers rounded as GpuContext.createBuffer rounds them). */
  bytes: number;
  kind: BufferKind;
}

/** WebGPU's default maxStorageBufferBindingSize (128 MiB): the chunk limit when no device is at hand. */
export const DEFAULT_BINDING_LIMIT_BYTES = 134_217_728;

/** Bytes GpuContext.createBuffer allocates for `byteLength`: at least 4, rounded up to 4. */
export function storageBytes(byteLength: number): number {
  return Math.max(4, Math.ceil(byteLength / 4) * 4);
}

/** A storage entry of `count` f32/u32 values. */
export function words(name: string, count: number, kind: BufferKind): PlannedBuffer {
  return { name, bytes: storageBytes(count * 4), kind };
}

export function planTotal(plan: readonly PlannedBuffer[], kinds?: readonly BufferKind[]): number {
  return plan.reduce((n, b) => n + (!kinds || kinds.includes(b.kind) ? b.bytes : 0), 0);
}

/** Totals per kind (every kind present, 0 when the plan has none of it) and in all. */
export function planSummary(plan: readonly PlannedBuffer[]): Record<BufferKind, number> & { total: number } {
  const s = { weights: 0, 'kv-cache': 0, activations: 0, lora: 0, optimizer: 0, scratch: 0, uniform: 0, readback: 0, total: 0 };
  for (const b of plan) {
    s[b.kind] += b.bytes;
    s.total += b.bytes;
  }
  return s;
}

/**
 * Hands out a plan's entries by name, each once, for an allocator: `take(name)` throws on a name the
 * plan lacks or one taken twice, `done()` on an entry never taken. So allocation and plan cannot
 * disagree on which buffers exist, nor on their sizes.
 */
export function plannedBuffers(plan: readonly PlannedBuffer[], what: string) {
  const left = new Map<string, PlannedBuffer>();
  for (const b of plan) {
    if (left.has(b.name)) throw new Error(`${what}: the plan names buffer '${b.name}' twice`);
    left.set(b.name, b);
  }
  return {
    take(name: string): PlannedBuffer {
      const b = left.get(name);
      if (!b) throw new Error(`${what}: no planned buffer '${name}' (or it was taken already)`);
      left.delete(name);
      return b;
    },
    done() {
      if (left.size) throw new Error(`${what}: planned buffers never allocated: ${[...left.keys()].slice(0, 5).join(', ')}${left.size > 5 ? ', …' : ''}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Weights

/** How many rows of a weight fit in one chunk under `maxChunkBytes` (data and scales are separate buffers). */
export function rowsPerChunk(format: WeightFormat, cols: number, maxChunkBytes: number): number {
  const dataRowBytes = dataWordsPerRow(format, cols) * 4;
  let rows = Math.floor(maxChunkBytes / dataRowBytes);
  if (hasScales(format)) rows = Math.min(rows, Math.floor(maxChunkBytes / (groupsPerRow(cols) * 2)) - 1);
  return rows;
}

export interface WeightChunkPlan {
  rowStart: number;
  rows: number;
  data: PlannedBuffer;
  /** q8/q4 only. */
  scales: PlannedBuffer | null;
}

/** The chunks (rows split under the buffer limit) a [rows, cols] weight in `format` is stored as. */
export function weightChunks(
  name: string,
  format: WeightFormat,
  rows: number,
  cols: number,
  limitBytes: number,
  kind: BufferKind = 'weights',
): WeightChunkPlan[] {
  const perChunk = Math.min(rowsPerChunk(format, cols, limitBytes), rows);
  if (perChunk < 1) throw new Error(`${name}: one ${format} row of ${cols} columns exceeds the ${limitBytes}-byte buffer limit`);
  const chunks: WeightChunkPlan[] = [];
  for (let rowStart = 0; rowStart < rows; rowStart += perChunk) {
    const count = Math.min(perChunk, rows - rowStart);
    const label = `${name}[${rowStart}..${rowStart + count})`;
    chunks.push({
      rowStart,
      rows: count,
      data: { name: `${label}.${format}`, bytes: storageBytes(count * dataWordsPerRow(format, cols) * 4), kind },
      scales: hasScales(format) ? { name: `${label}.scales`, bytes: storageBytes(scaleWordsFor(count, cols) * 4), kind } : null,
    });
  }
  return chunks;
}

/** One tensor of the engine's weights: a matrix (fused from `sources` stacked by rows) or an f32 vector. */
export type WeightTensorPlan = { label: string; sources: string[]; rows: number; cols: number } | { label: string; sources: string[]; length: number };

/**
 * The engine's weight tensors in upload order (qwen-weights.ts uploads exactly these, by label):
 * q/k/v fused into one [(heads + 2·kvHeads)·headDim, hidden] matrix (and their biases into one
 * vector), gate/up into one [2·intermediate, hidden] matrix; norms and biases stay f32 vectors.
 */
export function qwenWeightTensors(config: ModelConfig): WeightTensorPlan[] {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V } = config;
  const qkvRows = (nH + 2 * nKv) * d;
  const list: WeightTensorPlan[] = [{ label: 'model.embed_tokens.weight', sources: ['model.embed_tokens.weight'], rows: V, cols: H }];
  const vector = (label: string, length: number, sources = [label]) => list.push({ label, sources, length });
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const attn = p + 'self_attn.';
    vector(p + 'input_layernorm.weight', H);
    list.push({ label: attn + 'qkv_proj.weight', sources: ['q', 'k', 'v'].map((x) => `${attn}${x}_proj.weight`), rows: qkvRows, cols: H });
    if (config.qkvBias)
      vector(
        attn + 'qkv_proj.bias',
        qkvRows,
        ['q', 'k', 'v'].map((x) => `${attn}${x}_proj.bias`),
      );
    if (config.qkNorm) {
      vector(attn + 'q_norm.weight', d);
      vector(attn + 'k_norm.weight', d);
    }
    list.push({ label: attn + 'o_proj.weight', sources: [attn + 'o_proj.weight'], rows: H, cols: nH * d });
    if (config.outputBias) vector(attn + 'o_proj.bias', H);
    vector(p + 'post_attention_layernorm.weight', H);
    list.push({ label: p + 'mlp.gate_up_proj.weight', sources: [p + 'mlp.gate_proj.weight', p + 'mlp.up_proj.weight'], rows: 2 * I, cols: H });
    list.push({ label: p + 'mlp.down_proj.weight', sources: [p + 'mlp.down_proj.weight'], rows: H, cols: I });
  }
  vector('model.norm.weight', H);
  if (!config.tieWordEmbeddings) list.push({ label: 'lm_head.weight', sources: ['lm_head.weight'], rows: V, cols: H });
  return list;
}

/** Name and size of the RoPE table (cos, sin per position and frequency: maxPositions × headDim f32). */
export function planRopeTable(config: Pick<ModelConfig, 'headDim'>, maxPositions: number): PlannedBuffer {
  return words('rope-table', maxPositions * config.headDim, 'weights');
}

export interface WeightPlanOptions {
  format: WeightFormat;
  /** Context length the RoPE table covers. */
  maxPositions: number;
  /** Largest weight chunk buffer (min of the binding and buffer limits); default 128 MiB. */
  chunkLimitBytes?: number;
}

export function planWeights(config: ModelConfig, options: WeightPlanOptions): PlannedBuffer[] {
  const limit = options.chunkLimitBytes ?? DEFAULT_BINDING_LIMIT_BYTES;
  const plan: PlannedBuffer[] = [];
  for (const t of qwenWeightTensors(config)) {
    if ('length' in t) plan.push(words(t.label, t.length, 'weights'));
    else for (const c of weightChunks(t.label, options.format, t.rows, t.cols, limit)) plan.push(c.data, ...(c.scales ? [c.scales] : []));
  }
  plan.push(planRopeTable(config, options.maxPositions));
  return plan;
}

// ---------------------------------------------------------------------------------------------
// KV cache

export function planKvCache(shape: KvCacheShape, limitBytes = DEFAULT_BINDING_LIMIT_BYTES): PlannedBuffer[] {
  const { chunks } = kvCacheChunks(shape, limitBytes);
  const plan: PlannedBuffer[] = [];
  for (let layer = 0; layer < shape.layers; layer++) {
    for (const c of chunks)
      for (const which of ['k', 'v'] as const) plan.push({ name: kvBufferName(layer, which, c.slotBase), bytes: storageBytes(c.bytes), kind: 'kv-cache' });
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Activations

/** Bytes the logits buffer may take before logit rows are capped (the vocabulary is 151936 wide). */
export const LOGITS_BUDGET_BYTES = 64 * 2 ** 20;

/**
 * Logit rows to plan for: every sequence of a batch must fit (generation samples one row per
 * sequence), and beyond that only what fits in LOGITS_BUDGET_BYTES. A full-vocabulary row per
 * prefill token would be 311 MB at 512 tokens for Qwen; full-logits callers (QwenEngine.logits)
 * step through their tokens this many at a time instead.
 */
export function planLogitRows(config: Pick<ModelConfig, 'vocabSize'>, maxBatch: number, maxTokens: number): number {
  return Math.min(maxTokens, Math.max(maxBatch, Math.floor(LOGITS_BUDGET_BYTES / (config.vocabSize * 4))));
}

/** Bytes per logit row of the step's one readback: the sampled id and its 2 log-probs. */
export const SAMPLE_READBACK_BYTES_PER_ROW = 12;

/** The activation buffers of one forward step of up to `maxTokens` tokens (see activations.ts for what each holds). */
export function planActivations(config: ModelConfig, maxTokens: number, maxLogitRows: number): PlannedBuffer[] {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V } = config;
  const a = (name: string, count: number) => words(name, count, 'activations');
  return [
    a('ids', maxTokens),
    a('slots', maxTokens),
    a('positions', maxTokens),
    a('logitRows', maxLogitRows),
    a('residual', maxTokens * H),
    a('normed', maxTokens * H),
    a('qkv', maxTokens * (nH + 2 * nKv) * d),
    a('attention', maxTokens * nH * d),
    a('gateUp', maxTokens * 2 * I),
    a('mlpHidden', maxTokens * I),
    a('logits', maxLogitRows * V),
    { name: 'attention split-K scratch', bytes: storageBytes(maxAttentionScratchBytes(d)), kind: 'activations' },
    a('samplingParams', maxLogitRows * SAMPLING_PARAM_WORDS),
    a('sampledTokens', maxLogitRows),
    a('sampledLogprobs', maxLogitRows * 2),
    { name: 'sample readback', bytes: maxLogitRows * SAMPLE_READBACK_BYTES_PER_ROW, kind: 'readback' },
  ];
}

/** The engine's u scratch for LoRA in forward steps (QwenEngine.setAdapter). */
export function planInferenceLora(maxStepTokens: number, rank: number): PlannedBuffer {
  return words('lora u (inference)', maxStepTokens * rank, 'lora');
}

/** Two u32 sums of the adapter fingerprint generation keys its prefix cache with (QwenEngine.weightsKey; made on first use). */
export const ADAPTER_FINGERPRINT: PlannedBuffer = { name: 'adapter fingerprint', bytes: 8, kind: 'scratch' };

// ---------------------------------------------------------------------------------------------
// A whole engine

export interface EnginePlanOptions {
  format: WeightFormat;
  maxContext: number;
  maxBatch: number;
  /** Tokens per prefill step; default `defaultStepTokens`. */
  maxStepTokens?: number;
  /** The device's storage binding limit and max buffer size (defaults: WebGPU's, 128 MiB and 256 MiB). */
  maxBindingBytes?: number;
  maxBufferBytes?: number;
  /** Test hook of the engine: smaller weight and KV chunks. */
  maxChunkBytes?: number;
}

/** Prefill step size when none is given: the whole batch's context, at most 512 tokens, at least a token per sequence. */
export function defaultStepTokens(maxContext: number, maxBatch: number): number {
  return Math.max(maxBatch, Math.min(512, maxContext * maxBatch));
}

export interface EnginePlan {
  maxStepTokens: number;
  maxLogitRows: number;
  weights: PlannedBuffer[];
  kvCache: PlannedBuffer[];
  activations: PlannedBuffer[];
  /** All of the above. */
  buffers: PlannedBuffer[];
}

export function planEngine(config: ModelConfig, o: EnginePlanOptions): EnginePlan {
  const binding = o.maxBindingBytes ?? DEFAULT_BINDING_LIMIT_BYTES;
  const maxStepTokens = o.maxStepTokens ?? defaultStepTokens(o.maxContext, o.maxBatch);
  const maxLogitRows = planLogitRows(config, o.maxBatch, maxStepTokens);
  const weights = planWeights(config, {
    format: o.format,
    maxPositions: o.maxContext,
    chunkLimitBytes: Math.min(o.maxChunkBytes ?? binding, o.maxBufferBytes ?? 2 * DEFAULT_BINDING_LIMIT_BYTES),
  });
  const kvCache = planKvCache(
    { layers: config.numLayers, slots: o.maxBatch, kvHeads: config.numKvHeads, headDim: config.headDim, maxSeq: o.maxContext },
    Math.min(o.maxChunkBytes ?? binding, binding),
  );
  const activations = planActivations(config, maxStepTokens, maxLogitRows);
  return { maxStepTokens, maxLogitRows, weights, kvCache, activations, buffers: [...weights, ...kvCache, ...activations] };
}
