// Deterministic tiny Qwen2/Qwen3 checkpoints in Hugging Face layout, with RANDOM weights: for
// tests and the offline smoke run, never a trained model. Pure TypeScript (no Node APIs), so the
// app can build one in the browser too.
import { expectedTensors, parseModelConfig, type ModelConfig } from '../src/hf-io/config';
import { fromFloat32, type TensorDtype } from '../src/hf-io/dtypes';
import { writeSafetensors, type TensorToWrite } from '../src/hf-io/safetensors-writer';

export const TINY_MODEL_NOTE = 'random weights for tests; not a trained model';

/** Real Qwen tokenizer ids (shared by Qwen2.5 and Qwen3). */
export const QWEN_VOCAB_SIZE = 151936;
const QWEN_BOS = 151643; // <|endoftext|>
const QWEN_IM_END = 151645; // <|im_end|>

export interface TinyModelOptions {
  arch: 'qwen2' | 'qwen3';
  /** 'real': the Qwen tokenizer's 151936 ids; 'reduced': a small id space and no tokenizer. */
  vocab?: 'real' | 'reduced';
  seed?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  /** Qwen3 only (Qwen2 always uses hidden / heads). */
  headDim?: number;
  intermediate?: number;
  /** Size of the reduced vocabulary. */
  vocabSize?: number;
  tie?: boolean;
  dtype?: TensorDtype;
  /** tokenizer.json / tokenizer_config.json to ship alongside (real vocabulary only). */
  tokenizerFiles?: Map<string, Uint8Array>;
}

export interface TinyModel {
  config: ModelConfig;
  /** file name → bytes: config.json, generation_config.json, model.safetensors, README.md (+ tokenizer files). */
  files: Map<string, Uint8Array>;
}

const TORCH_DTYPE: Record<TensorDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** Sizes chosen so a forward pass on SwiftShader takes milliseconds; the real-vocab variant keeps
 *  hidden small so the 151936-row embedding stays a few MB. Qwen3's head_dim differs from
 *  hidden/heads on purpose, to exercise that path. */
function resolve(o: TinyModelOptions) {
  const real = (o.vocab ?? 'reduced') === 'real';
  const hidden = o.hidden ?? (real ? 32 : 64);
  const heads = o.heads ?? 4;
  return {
    real,
    seed: o.seed ?? 1,
    layers: o.layers ?? 2,
    hidden,
    heads,
    kvHeads: o.kvHeads ?? 2,
    headDim: o.arch === 'qwen3' ? (o.headDim ?? (2 * hidden) / heads) : hidden / heads,
    intermediate: o.intermediate ?? 2 * hidden,
    vocabSize: real ? QWEN_VOCAB_SIZE : (o.vocabSize ?? 512),
    tie: o.tie ?? true,
    dtype: o.dtype ?? (real ? 'BF16' : 'F32'),
  } as const;
}

export function tinyConfigJson(o: TinyModelOptions): Record<string, unknown> {
  const r = resolve(o);
  const bos = r.real ? QWEN_BOS : 1;
  const eos = r.real ? QWEN_IM_END : 2;
  const json: Record<string, unknown> = {
    _asp_note: TINY_MODEL_NOTE,
    architectures: [o.arch === 'qwen2' ? 'Qwen2ForCausalLM' : 'Qwen3ForCausalLM'],
    model_type: o.arch,
    vocab_size: r.vocabSize,
    hidden_size: r.hidden,
    intermediate_size: r.intermediate,
    num_hidden_layers: r.layers,
    num_attention_heads: r.heads,
    num_key_value_heads: r.kvHeads,
    hidden_act: 'silu',
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    tie_word_embeddings: r.tie,
    torch_dtype: TORCH_DTYPE[r.dtype],
    bos_token_id: bos,
    eos_token_id: eos,
    use_sliding_window: false,
  };
  if (o.arch === 'qwen3') {
    json.head_dim = r.headDim;
    json.attention_bias = false;
  }
  return json;
}

/** mulberry32: tiny, fast, and the same sequence on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Non-flat weights: norms near 1, linear layers scaled by 1/sqrt(fan_in), embeddings wide
 *  enough that greedy decoding has clear winners. Tensors are drawn in expectedTensors order. */
function randomValues(name: string, shape: number[], normal: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let scale: number;
  let center = 0;
  if (name.endsWith('norm.weight')) {
    center = 1;
    scale = 0.1;
  } else if (name.endsWith('.bias')) scale = 0.1;
  else if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') scale = 0.5;
  else scale = 1 / Math.sqrt(shape[1]);
  for (let i = 0; i < n; i++) out[i] = center + scale * normal();
  return out;
}

export function makeTinyModel(options: TinyModelOptions): TinyModel {
  const r = resolve(options);
  const configJson = tinyConfigJson(options);
  const config = parseModelConfig(configJson, `tiny ${options.arch} config`);
  const normal = gaussian(prng(r.seed));
  const tensors: TensorToWrite[] = expectedTensors(config).map(({ name, shape }) => ({
    name,
    shape,
    dtype: r.dtype,
    data: fromFloat32(randomValues(name, shape, normal), r.dtype),
  }));
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set('config.json', enc.encode(JSON.stringify(configJson, null, 2) + '\n'));
  files.set(
    'generation_config.json',
    enc.encode(
      JSON.stringify(
        {
          _asp_note: TINY_MODEL_NOTE,
          bos_token_id: config.bosTokenId,
          eos_token_id: config.eosTokenIds,
          do_sample: false,
        },
        null,
        2,
      ) + '\n',
    ),
  );
  files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt', asp_note: TINY_MODEL_NOTE }));
  if (r.real && options.tokenizerFiles) for (const [name, bytes] of options.tokenizerFiles) files.set(name, bytes);
  files.set('README.md', enc.encode(readme(options, r)));
  return { config, files };
}

function readme(o: TinyModelOptions, r: ReturnType<typeof resolve>): string {
  return `# Tiny ${o.arch === 'qwen2' ? 'Qwen2' : 'Qwen3'} test checkpoint — RANDOM WEIGHTS

This is **not a trained model**: ${TINY_MODEL_NOTE}. Its output is gibberish by design.
It was written by \`npm run make-tiny-model\` (models/make-tiny-model.ts) from a seeded PRNG,
so the same options always give the same bytes.

- architecture: ${o.arch === 'qwen2' ? 'Qwen2ForCausalLM' : 'Qwen3ForCausalLM'}
- vocabulary: ${r.real ? `real Qwen tokenizer (${r.vocabSize} ids)${o.tokenizerFiles ? '' : ', tokenizer files not included'}` : `reduced (${r.vocabSize} ids, no tokenizer)`}
- layers ${r.layers}, hidden ${r.hidden}, heads ${r.heads}, kv heads ${r.kvHeads}, head_dim ${r.headDim}, intermediate ${r.intermediate}
- tied embeddings: ${r.tie}, dtype: ${r.dtype}, seed: ${r.seed}
`;
}
