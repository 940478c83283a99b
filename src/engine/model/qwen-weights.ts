// The Qwen model's weights on the GPU, uploaded from a validated checkpoint.
//
// Two fusions cut the dispatches per layer: q/k/v projections are stacked by rows into one
// [(heads + 2·kvHeads)·headDim, hidden] weight (and their biases into one vector), and gate/up
// into one [2·intermediate, hidden] weight. Quantization groups run along the input dimension, so
// stacking rows never mixes groups. Norm weights and biases stay f32.
//
// With a weight cache (quant/weight-cache.ts), each q8/q4 matrix is looked up by the hash of its
// source tensors first; a hit uploads the stored packed bytes and skips quantization.
import type { ByteCache } from '../../hf-io/cache';
import type { Checkpoint } from '../../hf-io/checkpoint';
import type { ModelConfig } from '../../hf-io/config';
import { tensorToFloat32 } from '../../hf-io/safetensors';
import type { GpuContext } from '../gpu/context';
import { createRopeTable, type RopeTable } from '../ops/rope';
import { hasScales, type WeightFormat } from '../quant/formats';
import { packWeight } from '../quant/pack';
import { isCachedFormat, WeightCache, weightCacheSupported, type WeightCacheStats } from '../quant/weight-cache';
import { destroyWeight, uploadPackedWeight, uploadWeight, type GpuWeight } from '../weights';
import { planRopeTable, qwenWeightTensors, words } from './buffer-plan';
import { createPlanned } from '../gpu/planned';

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
  /** What the quantized-weight cache did; absent when no cache was used (no store, f32/f16). */
  cacheStats?: WeightCacheStats;
}

/** Where weights come from: a validated checkpoint, or synthetic weights for benchmarks. */
export type TensorProvider = Pick<Checkpoint, 'names' | 'tensor'>;

export interface WeightLoadProgress {
  /** Tensors uploaded so far, of `total`. */
  done: number;
  total: number;
  name: string;
  /** q8/q4 matrices only: true when uploaded from the weight cache, false when quantized now. */
  fromCache?: boolean;
}

export interface WeightLoadOptions {
  format: WeightFormat;
  /** Context length the RoPE table covers. */
  maxPositions: number;
  onProgress?: (p: WeightLoadProgress) => void;
  /** Where quantized (q8/q4) weights are cached between loads; ignored for f32 and f16. */
  weightCache?: ByteCache;
  /** Test hook: forces small weight chunks to exercise the splitting path. */
  maxChunkBytes?: number;
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
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
  // Shapes, fusions and labels come from the size table (buffer-plan.ts), which the estimate sums.
  const planned = new Map(qwenWeightTensors(config).map((t) => [t.label, t]));
  const total = checkpoint.names().length;
  let done = 0;
  const uploadOptions = { maxChunkBytes: options.maxChunkBytes };
  const report = (name: string, fromCache?: boolean) => options.onProgress?.({ done: ++done, total, name, fromCache });
  // Without a cache, q8/q4 matrices are quantized now: their progress says fromCache false.
  const uncachedFlag = hasScales(format) ? false : undefined;
  // Tensors are read one at a time so the CPU holds at most one fused group in f32.
  const read = async (name: string, fromCache?: boolean): Promise<Float32Array> => {
    const values = tensorToFloat32(await checkpoint.tensor(name));
    report(name, fromCache);
    return values;
  };
  const tensor = (label: string) => {
    const t = planned.get(label);
    if (!t) throw new Error(`weights: no planned tensor ${label}`);
    planned.delete(label);
    return t;
  };
  const vector = async (label: string) => {
    const t = tensor(label);
    if (!('length' in t)) throw new Error(`weights: ${label} is planned as a matrix`);
    const values = concat(await Promise.all(t.sources.map((n) => read(n))));
    if (values.length !== t.length) throw new Error(`${label}: ${values.length} values, expected ${t.length}`);
    const buffer = createPlanned(ctx, words(label, t.length, 'weights'));
    ctx.write(buffer, values);
    return buffer;
  };
  const cache = options.weightCache && isCachedFormat(format) && weightCacheSupported() ? new WeightCache(options.weightCache) : undefined;
  const matrix = async (label: string): Promise<GpuWeight> => {
    const t = tensor(label);
    if ('length' in t) throw new Error(`weights: ${label} is planned as a vector`);
    const { sources: names, rows, cols } = t;
    if (!cache) {
      const values = concat(await Promise.all(names.map((n) => read(n, uncachedFlag))));
      return uploadWeight(ctx, label, { shape: [rows, cols], values }, format, uploadOptions);
    }
    const parts = await Promise.all(names.map((n) => checkpoint.tensor(n)));
    const key = await cache.key(format, label, rows, cols, parts);
    let packed = await cache.get(key, format, rows, cols);
    const fromCache = packed !== undefined;
    if (!packed) {
      packed = packWeight(concat(parts.map(tensorToFloat32)), rows, cols, format, label);
      await cache.put(key, packed);
    }
    for (const n of names) report(n, fromCache);
    return uploadPackedWeight(ctx, label, packed, uploadOptions);
  };

  const embedding = await matrix('model.embed_tokens.weight');
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const attn = p + 'self_attn.';
    layers.push({
      inputNorm: await vector(p + 'input_layernorm.weight'),
      qkv: await matrix(attn + 'qkv_proj.weight'),
      qkvBias: config.qkvBias ? await vector(attn + 'qkv_proj.bias') : null,
      qNorm: config.qkNorm ? await vector(attn + 'q_norm.weight') : null,
      kNorm: config.qkNorm ? await vector(attn + 'k_norm.weight') : null,
      o: await matrix(attn + 'o_proj.weight'),
      oBias: config.outputBias ? await vector(attn + 'o_proj.bias') : null,
      postNorm: await vector(p + 'post_attention_layernorm.weight'),
      gateUp: await matrix(p + 'mlp.gate_up_proj.weight'),
      down: await matrix(p + 'mlp.down_proj.weight'),
    });
  }
  const finalNorm = await vector('model.norm.weight');
  const lmHead = config.tieWordEmbeddings ? embedding : await matrix('lm_head.weight');
  if (planned.size) throw new Error(`weights: planned tensors not uploaded: ${[...planned.keys()].join(', ')}`);
  const rope = createRopeTable(ctx, { headDim: config.headDim, theta: config.ropeTheta, maxPositions: options.maxPositions });
  // The table's layout is ops/rope.ts's; its size is also in the size table: they must agree.
  const ropePlan = planRopeTable(config, options.maxPositions);
  if (rope.buffer.size !== ropePlan.bytes) throw new Error(`rope-table: ${rope.buffer.size} bytes allocated, the size table plans ${ropePlan.bytes}`);
  return { format, embedding, lmHead, layers, finalNorm, rope, cacheStats: cache?.stats };
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
