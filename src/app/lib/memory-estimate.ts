// Estimated GPU memory for a model and quantization, before anything is downloaded: the sum of the
// engine's own size table (weights, KV cache, activations for the chosen context), the same entries
// the engine allocates from. Dimensions are those of the published config.json files.
import type { ModelConfig } from '../../hf-io/config';
import type { WeightFormat } from '../../engine/quant/formats';
// The engine's size table (GPU-free), so the estimate is what the engine allocates.
import { planEngine, planSummary } from '../../engine/model/buffer-plan';

export interface ModelDims {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  tied: boolean;
  family: 'qwen2' | 'qwen3';
}

/** Dimensions of the registry's models (config.json of each repo; tiny: models/tiny-model.ts defaults). */
export const MODEL_DIMS: Record<string, ModelDims> = {
  'qwen2.5-0.5b-instruct': { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, vocab: 151936, tied: true, family: 'qwen2' },
  'qwen2.5-1.5b-instruct': { layers: 28, hidden: 1536, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, vocab: 151936, tied: true, family: 'qwen2' },
  'qwen3-0.6b': { layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, intermediate: 3072, vocab: 151936, tied: true, family: 'qwen3' },
  'tiny-qwen3-random': { layers: 2, hidden: 32, heads: 4, kvHeads: 4, headDim: 16, intermediate: 64, vocab: 151936, tied: true, family: 'qwen3' },
  'demo-agent': { layers: 4, hidden: 128, heads: 4, kvHeads: 2, headDim: 32, intermediate: 384, vocab: 4096, tied: true, family: 'qwen2' },
};

export function configFromDims(d: ModelDims): ModelConfig {
  return {
    architecture: d.family === 'qwen3' ? 'Qwen3ForCausalLM' : 'Qwen2ForCausalLM',
    family: d.family,
    vocabSize: d.vocab,
    hiddenSize: d.hidden,
    intermediateSize: d.intermediate,
    numLayers: d.layers,
    numHeads: d.heads,
    numKvHeads: d.kvHeads,
    headDim: d.headDim,
    maxPositionEmbeddings: 32768,
    ropeTheta: 1e6,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: d.tied,
    qkvBias: d.family === 'qwen2',
    outputBias: false,
    qkNorm: d.family === 'qwen3',
    dtype: 'bfloat16',
    bosTokenId: null,
    eosTokenIds: [],
  };
}

/**
 * Sequences the playground's engine decodes together: GRPO rollouts of a group (G up to 8 in one
 * batch; larger groups go in several) and side-by-side runs share it.
 */
export const ENGINE_BATCH = 8;

export interface MemoryEstimate {
  weights: number;
  kvCache: number;
  activations: number;
  total: number;
}

/**
 * What the engine allocates (src/engine/engine.ts), from its size table (engine/model/buffer-plan.ts):
 * weights in the chosen format (scales included, tied embedding once) and the RoPE table; the f32
 * KV cache for `context` tokens × `batch` sequences; activations of one prefill step of up to 512
 * tokens with logit rows capped at max(batch, 64 MiB of vocabulary), and the step's readback.
 */
export function estimateMemory(dims: ModelDims, quant: WeightFormat, context: number, batch = ENGINE_BATCH): MemoryEstimate {
  const s = planSummary(planEngine(configFromDims(dims), { format: quant, maxContext: context, maxBatch: batch }).buffers);
  return { weights: s.weights, kvCache: s['kv-cache'], activations: s.activations + s.readback, total: s.total };
}
