// Hugging Face config.json → a typed, validated ModelConfig for the two supported architectures,
// plus the tensor names/shapes a checkpoint of that config must hold and memory estimates.
import { ModelConfigError } from './errors';

export type Architecture = 'Qwen2ForCausalLM' | 'Qwen3ForCausalLM';
export const SUPPORTED_ARCHITECTURES: readonly Architecture[] = ['Qwen2ForCausalLM', 'Qwen3ForCausalLM'];

export type ConfigDtype = 'float32' | 'float16' | 'bfloat16';

export interface ModelConfig {
  architecture: Architecture;
  /** 'qwen2' covers Qwen2 and Qwen2.5. */
  family: 'qwen2' | 'qwen3';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Fewer than numHeads means grouped-query attention. */
  numKvHeads: number;
  /** Qwen3 states it explicitly and it need not equal hiddenSize / numHeads. */
  headDim: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  rmsNormEps: number;
  /** When true there is no lm_head.weight: the output projection reuses embed_tokens. */
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (always for Qwen2, `attention_bias` for Qwen3). */
  qkvBias: boolean;
  /** Bias on o_proj (only Qwen3 with attention_bias). */
  outputBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (Qwen3). */
  qkNorm: boolean;
  /** Storage dtype the checkpoint declares (torch_dtype / dtype); tensors carry their own. */
  dtype: ConfigDtype;
  bosTokenId: number | null;
  /** Generation stops at any of these; config.json may give one id or a list. */
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;

const DTYPE_ALIASES = new Map<string, ConfigDtype>([
  ['float32', 'float32'],
  ['float', 'float32'],
  ['float16', 'float16'],
  ['half', 'float16'],
  ['bfloat16', 'bfloat16'],
]);

/**
 * Upper bounds on a config's dimensions, checked before anything is enumerated or allocated (a
 * config.json may come from anywhere; num_hidden_layers: 1e9 would otherwise build ~1.2e10 tensor
 * names). Generous: about 4x the largest Qwen2/Qwen3 release. docs/limits.md lists them.
 */
export const MODEL_LIMITS = {
  num_hidden_layers: 256,
  num_attention_heads: 512,
  num_key_value_heads: 512,
  hidden_size: 65_536,
  intermediate_size: 262_144,
  head_dim: 1_024,
  vocab_size: 1_048_576,
  max_position_embeddings: 4_194_304,
} as const;

/** Parses config.json text (or an already-parsed object). `fileName` is used in error messages. */
export function parseModelConfig(input: string | unknown, fileName = 'config.json'): ModelConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      throw new ModelConfigError(`${fileName}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelConfigError(`${fileName}: expected a JSON object`);
  }
  const json = raw as Json;
  const fail = (msg: string): never => {
    throw new ModelConfigError(`${fileName}: ${msg}`);
  };

  const architecture = readArchitecture(json, fail);
  const family = architecture === 'Qwen2ForCausalLM' ? 'qwen2' : 'qwen3';

  const own = (field: string): unknown => (Object.prototype.hasOwnProperty.call(json, field) ? json[field] : undefined);
  const int = (field: keyof typeof MODEL_LIMITS, fallback?: number): number => {
    const v = own(field) ?? fallback;
    if (v === undefined) return fail(`missing field "${field}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return fail(`field "${field}" must be a positive integer, got ${JSON.stringify(v)}`);
    if (v > MODEL_LIMITS[field]) return fail(`field "${field}" is ${v}, over the limit of ${MODEL_LIMITS[field]}`);
    return v;
  };
  const positive = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return fail(`field "${field}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = json[field] ?? fallback;
    if (typeof v !== 'boolean') return fail(`field "${field}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };

  const vocabSize = int('vocab_size');
  const hiddenSize = int('hidden_size');
  const intermediateSize = int('intermediate_size');
  const numLayers = int('num_hidden_layers');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) fail(`field "num_attention_heads" (${numHeads}) must be a multiple of "num_key_value_heads" (${numKvHeads})`);

  let headDim: number;
  if (family === 'qwen3') {
    headDim = json.head_dim === undefined || json.head_dim === null ? defaultHeadDim(hiddenSize, numHeads, fail) : int('head_dim');
  } else {
    headDim = defaultHeadDim(hiddenSize, numHeads, fail);
    if (json.head_dim !== undefined && json.head_dim !== null && json.head_dim !== headDim) {
      fail(`field "head_dim" (${JSON.stringify(json.head_dim)}) must equal hidden_size / num_attention_heads (${headDim}) for Qwen2`);
    }
  }
  if (headDim % 2 !== 0) fail(`head dimension must be even for rotary embeddings, got ${headDim}`);

  const ropeTheta = positive('rope_theta', readRopeTheta(json, fail));
  const rmsNormEps = positive('rms_norm_eps', json.rms_norm_eps ?? 1e-6);
  const maxPositionEmbeddings = int('max_position_embeddings', 32768);
  const tieWordEmbeddings = bool('tie_word_embeddings', false);
  rejectUnsupportedAttention(json, fail);
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') fail(`field "hidden_act" must be "silu", got ${JSON.stringify(json.hidden_act)}`);

  const attentionBias = family === 'qwen3' ? bool('attention_bias', false) : false;
  const dtype = readDtype(json, fail);
  const tokenId = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      return fail(`field "${field}" must be a non-negative integer token id, got ${JSON.stringify(v)}`);
    if (v >= vocabSize) return fail(`field "${field}" (${v}) is not below vocab_size (${vocabSize})`);
    return v;
  };
  const bosTokenId = json.bos_token_id === undefined || json.bos_token_id === null ? null : tokenId('bos_token_id', json.bos_token_id);
  const eosRaw = json.eos_token_id;
  const eosTokenIds = eosRaw === undefined || eosRaw === null ? [] : (Array.isArray(eosRaw) ? eosRaw : [eosRaw]).map((v) => tokenId('eos_token_id', v));

  return {
    architecture,
    family,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    maxPositionEmbeddings,
    ropeTheta,
    rmsNormEps,
    tieWordEmbeddings,
    qkvBias: family === 'qwen2' || attentionBias,
    outputBias: attentionBias,
    qkNorm: family === 'qwen3',
    dtype,
    bosTokenId,
    eosTokenIds,
  };
}

function readArchitecture(json: Json, fail: (m: string) => never): Architecture {
  const archs = json.architectures;
  if (archs === undefined || archs === null) return fail(`missing field "architectures" (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  if (!Array.isArray(archs) || archs.length !== 1 || typeof archs[0] !== 'string') {
    return fail(`field "architectures" must be a list with one name, got ${JSON.stringify(archs)}`);
  }
  const name = archs[0];
  if (!SUPPORTED_ARCHITECTURES.includes(name as Architecture)) {
    return fail(`unsupported architecture "${name}" (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  return name as Architecture;
}

function defaultHeadDim(hidden: number, heads: number, fail: (m: string) => never): number {
  if (hidden % heads !== 0) fail(`field "hidden_size" (${hidden}) must be divisible by "num_attention_heads" (${heads})`);
  return hidden / heads;
}

/** transformers ≥ 5 writes rope_parameters: { rope_theta, rope_type }; older versions rope_theta. */
function readRopeTheta(json: Json, fail: (m: string) => never): unknown {
  const params = json.rope_parameters;
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) return fail('field "rope_parameters" must be an object');
    const p = params as Json;
    if (p.rope_type !== undefined && p.rope_type !== 'default') fail(`unsupported rope_parameters.rope_type ${JSON.stringify(p.rope_type)} (only "default")`);
    if (p.rope_theta !== undefined) return p.rope_theta;
  }
  const scaling = json.rope_scaling;
  if (scaling !== undefined && scaling !== null) {
    const type = typeof scaling === 'object' ? ((scaling as Json).rope_type ?? (scaling as Json).type) : scaling;
    if (type !== 'default') fail(`unsupported rope_scaling ${JSON.stringify(scaling)} (only plain RoPE)`);
  }
  return json.rope_theta ?? 10000;
}

function rejectUnsupportedAttention(json: Json, fail: (m: string) => never) {
  if (json.use_sliding_window === true) fail('field "use_sliding_window" is true; sliding-window attention is not supported');
  const layerTypes = json.layer_types;
  if (Array.isArray(layerTypes) && layerTypes.some((t) => t !== 'full_attention')) {
    fail('field "layer_types" lists a layer that is not "full_attention"; only full attention is supported');
  }
}

function readDtype(json: Json, fail: (m: string) => never): ConfigDtype {
  const v = json.dtype ?? json.torch_dtype ?? 'float32';
  const d = typeof v === 'string' ? DTYPE_ALIASES.get(v.replace(/^torch\./, '')) : undefined;
  if (!d) return fail(`field "torch_dtype" must be float32, float16 or bfloat16, got ${JSON.stringify(v)}`);
  return d;
}

// ---- tensors a checkpoint must hold ----

export interface ExpectedTensor {
  name: string;
  /** Hugging Face layout: linear weights are [out_features, in_features]. */
  shape: number[];
}

export function expectedTensors(config: ModelConfig): ExpectedTensor[] {
  const { hiddenSize: h, vocabSize: v, intermediateSize: f, headDim: d, numHeads, numKvHeads } = config;
  const qOut = numHeads * d;
  const kvOut = numKvHeads * d;
  const list: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [v, h] }];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    list.push({ name: `${p}.input_layernorm.weight`, shape: [h] });
    list.push({ name: `${p}.self_attn.q_proj.weight`, shape: [qOut, h] });
    list.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kvOut, h] });
    list.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kvOut, h] });
    list.push({ name: `${p}.self_attn.o_proj.weight`, shape: [h, qOut] });
    if (config.qkvBias) {
      list.push({ name: `${p}.self_attn.q_proj.bias`, shape: [qOut] });
      list.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kvOut] });
      list.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kvOut] });
    }
    if (config.outputBias) list.push({ name: `${p}.self_attn.o_proj.bias`, shape: [h] });
    if (config.qkNorm) {
      list.push({ name: `${p}.self_attn.q_norm.weight`, shape: [d] });
      list.push({ name: `${p}.self_attn.k_norm.weight`, shape: [d] });
    }
    list.push({ name: `${p}.post_attention_layernorm.weight`, shape: [h] });
    list.push({ name: `${p}.mlp.gate_proj.weight`, shape: [f, h] });
    list.push({ name: `${p}.mlp.up_proj.weight`, shape: [f, h] });
    list.push({ name: `${p}.mlp.down_proj.weight`, shape: [h, f] });
  }
  list.push({ name: 'model.norm.weight', shape: [h] });
  if (!config.tieWordEmbeddings) list.push({ name: 'lm_head.weight', shape: [v, h] });
  return list;
}

/** Number of parameters (tied embeddings counted once). */
export function paramCount(config: ModelConfig): number {
  return expectedTensors(config).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** Approximate bytes of all weights stored at `bitsPerWeight` (e.g. 16 for bf16, ~4.5 for q4 with scales). */
export function weightBytes(config: ModelConfig, bitsPerWeight: number): number {
  if (!(bitsPerWeight > 0)) throw new RangeError(`bitsPerWeight must be positive, got ${bitsPerWeight}`);
  return Math.ceil((paramCount(config) * bitsPerWeight) / 8);
}
