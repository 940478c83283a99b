// The Qwen model's weights on the GPU, uploaded from a validated checkpoint.
//
// Two fusions cut the dispatches per layer: q/k/v projections are stacked by rows into one
// [(heads + 2·kvHeads)·headDim, hidden] weight (and their biases into one vector), and gate/up
// into one [2·intermediate, hidden] weight. Quantization groups run along the input dimension, so
// stacking rows never mixes groups. Norm weights and biases stay f32.
import type { Checkpoint } from '../../model/checkpoint';
import type { ModelConfig } from '../../model/config';
import { tensorToFloat32 } from '../../model/safetensors';
import type { GpuContext } from '../gpu/context';
import { createRopeTable, type RopeTable } from '../ops/rope';
import type { WeightFormat } from '../quant/formats';
import { destroyWeight, uploadWeight, type GpuWeight } from '../weights';

export interface LayerWeights {
  inputNorm: GPUBuffer;
  /** Fused [q; k; v] projection. */
  qkv: GpuWeight;
  qkvBias: GPUBuffer | null;
  qNorm: GPUBuffer | null;
  kNorm: GPUBuffer | null;
  o: GpuWeight;
  oBias: GPUBuffer | null;
  postNorm: GPUBuffer;
  /** Fused [gate; up] projection. */
  gateUp: GpuWeight;
  down: GpuWeight;
}

export interface QwenWeights {
  format: WeightFormat;
  embedding: GpuWeight;
  /** The output projection: the embedding itself when tied. */
  lmHead: GpuWeight;
  layers: LayerWeights[];
  finalNorm: GPUBuffer;
  rope: RopeTable;
}

/** Where weights come from: a validated checkpoint, or synthetic weights for benchmarks. */
export type TensorProvider = Pick<Checkpoint, 'names' | 'tensor'>;

export interface WeightLoadProgress {
  /** Tensors uploaded so far, of `total`. */
  done: number;
  total: number;
  name: string;
}

export interface WeightLoadOptions {
  format: WeightFormat;
  /** Context length the RoPE table covers. */
  maxPositions: number;
  onProgress?: (p: WeightLoadProgress) => void;
  /** Test hook: forces small weight chunks to exercise the splitting path. */
  maxChunkBytes?: number;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export async function uploadQwenWeights(ctx: GpuContext, config: ModelConfig, checkpoint: TensorProvider, options: WeightLoadOptions): Promise<QwenWeights> {
  const { format } = options;
  const H = config.hiddenSize;
  const qkvRows = (config.numHeads + 2 * config.numKvHeads) * config.headDim;
  const total = checkpoint.names().length;
  let done = 0;
  const uploadOptions = { maxChunkBytes: options.maxChunkBytes };
  // Tensors are read one at a time so the CPU holds at most one fused group in f32.
  const read = async (name: string): Promise<Float32Array> => {
    const values = tensorToFloat32(await checkpoint.tensor(name));
    options.onProgress?.({ done: ++done, total, name });
    return values;
  };
  const vector = async (name: string) => ctx.upload(name, await read(name), 'weights');
  const matrix = async (names: string[], rows: number, cols: number, label: string) =>
    uploadWeight(ctx, label, { shape: [rows, cols], values: concat(await Promise.all(names.map(read))) }, format, uploadOptions);

  const embedding = await matrix(['model.embed_tokens.weight'], config.vocabSize, H, 'model.embed_tokens.weight');
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const attn = p + 'self_attn.';
    layers.push({
      inputNorm: await vector(p + 'input_layernorm.weight'),
      qkv: await matrix([attn + 'q_proj.weight', attn + 'k_proj.weight', attn + 'v_proj.weight'], qkvRows, H, attn + 'qkv_proj.weight'),
      qkvBias: config.qkvBias
        ? ctx.upload(attn + 'qkv_proj.bias', concat([await read(attn + 'q_proj.bias'), await read(attn + 'k_proj.bias'), await read(attn + 'v_proj.bias')]), 'weights')
        : null,
      qNorm: config.qkNorm ? await vector(attn + 'q_norm.weight') : null,
      kNorm: config.qkNorm ? await vector(attn + 'k_norm.weight') : null,
      o: await matrix([attn + 'o_proj.weight'], H, config.numHeads * config.headDim, attn + 'o_proj.weight'),
      oBias: config.outputBias ? await vector(attn + 'o_proj.bias') : null,
      postNorm: await vector(p + 'post_attention_layernorm.weight'),
      gateUp: await matrix([p + 'mlp.gate_proj.weight', p + 'mlp.up_proj.weight'], 2 * config.intermediateSize, H, p + 'mlp.gate_up_proj.weight'),
      down: await matrix([p + 'mlp.down_proj.weight'], H, config.intermediateSize, p + 'mlp.down_proj.weight'),
    });
  }
  const finalNorm = await vector('model.norm.weight');
  const lmHead = config.tieWordEmbeddings ? embedding : await matrix(['lm_head.weight'], config.vocabSize, H, 'lm_head.weight');
  const rope = createRopeTable(ctx, { headDim: config.headDim, theta: config.ropeTheta, maxPositions: options.maxPositions });
  return { format, embedding, lmHead, layers, finalNorm, rope };
}

export function destroyQwenWeights(ctx: GpuContext, w: QwenWeights) {
  destroyWeight(ctx, w.embedding);
  if (w.lmHead !== w.embedding) destroyWeight(ctx, w.lmHead);
  for (const l of w.layers) {
    for (const m of [l.qkv, l.o, l.gateUp, l.down]) destroyWeight(ctx, m);
    for (const b of [l.inputNorm, l.qkvBias, l.qNorm, l.kNorm, l.oBias, l.postNorm]) if (b) ctx.destroy(b);
  }
  ctx.destroy(w.finalNorm);
  ctx.destroy(w.rope.buffer);
}
