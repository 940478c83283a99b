// Estimated GPU memory for a model and quantization, before anything is downloaded: weights from
// the parameter count at the format's bytes per element (scales included), plus the KV cache and
// activations for the chosen context. Dimensions are those of the published config.json files.
import { weightBytes, type ModelConfig } from '../../model/config';
import { bytesPerElement, type WeightFormat } from '../../engine/quant/formats';

export interface ModelDims { layers: number; hidden: number; heads: number; kvHeads: number; headDim: number; intermediate: number; vocab: number; tied: boolean; family: 'qwen2' | 'qwen3' }

/** Dimensions of the registry's models (config.json of each repo; tiny: models/tiny-model.ts defaults). */
export const MODEL_DIMS: Record<string, ModelDims> = {
  'qwen2.5-0.5b-instruct': { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, intermediate: 4864, vocab: 151936, tied: true, family: 'qwen2' },
  'qwen2.5-1.5b-instruct': { layers: 28, hidden: 1536, heads: 12, kvHeads: 2, headDim: 128, intermediate: 8960, vocab: 151936, tied: true, family: 'qwen2' },
  'qwen3-0.6b': { layers: 28, hidden: 1024, heads: 16, kvHeads: 8, headDim: 128, intermediate: 3072, vocab: 151936, tied: true, family: 'qwen3' },
  'tiny-qwen3-random': { layers: 2, hidden: 32, heads: 4, kvHeads: 4, headDim: 16, intermediate: 64, vocab: 151936, tied: true, family: 'qwen3' },
};

export function configFromDims(d: ModelDims): ModelConfig {
  return {
    architecture: d.family === 'qwen3' ? 'Qwen3ForCausalLM' : 'Qwen2ForCausalLM', family: d.family,
    vocabSize: d.vocab, hiddenSize: d.hidden, intermediateSize: d.intermediate, numLayers: d.layers,
    numHeads: d.heads, numKvHeads: d.kvHeads, headDim: d.headDim, maxPositionEmbeddings: 32768,
    ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: d.tied, qkvBias: d.family === 'qwen2', outputBias: false,
    qkNorm: d.family === 'qwen3', dtype: 'bfloat16', bosTokenId: null, eosTokenIds: [],
  };
}

export interface MemoryEstimate { weights: number; kvCache: number; activations: number; total: number }

/**
 * KV cache: 2 (K and V) × layers × kvHeads × headDim × context × batch × 2 bytes (the engine
 * stores it in f16; 4 with an f32 cache). Activations: a prefill chunk's working set, dominated by
 * its logits (chunk × vocab f32), which is what the engine's own memory report shows.
 */
export function estimateMemory(dims: ModelDims, quant: WeightFormat, context: number, batch = 1, f16Cache = true): MemoryEstimate {
  const weights = weightBytes(configFromDims(dims), bytesPerElement(quant) * 8);
  const kvCache = 2 * dims.layers * dims.kvHeads * dims.headDim * context * batch * (f16Cache ? 2 : 4);
  const chunk = Math.min(context, 512);
  const activations = 4 * batch * chunk * (dims.vocab + 4 * dims.hidden + 2 * dims.intermediate + dims.heads * Math.min(context, 4096));
  return { weights, kvCache, activations, total: weights + kvCache + activations };
}
