// The whole Qwen2/Qwen3 forward pass on the CPU, built only from the ops' CPU references.
// It is the readable specification of the model (one flat sequence of calls, as in llm.c) and
// the second opinion for the GPU engine: both are checked against Hugging Face's logits.
// It is slow and f32 throughout; use it on tiny models only.
import type { ModelConfig } from '../../hf-io/config';
import { attentionCpu } from '../ops/attention';
import { KvCacheCpu } from '../ops/kv-cache';
import { matmulCpu } from '../ops/matmul';
import { rmsNormCpu } from '../ops/rmsnorm';
import { ropeCpu } from '../ops/rope';
import { swigluCpu } from '../ops/swiglu';

/** f32 weights by Hugging Face tensor name. */
export type WeightLookup = (name: string) => Float32Array;

function addInPlace(a: Float32Array, b: Float32Array) {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

function embed(table: Float32Array, ids: readonly number[], hidden: number): Float32Array {
  const out = new Float32Array(ids.length * hidden);
  ids.forEach((id, t) => out.set(table.subarray(id * hidden, (id + 1) * hidden), t * hidden));
  return out;
}

/** Returns logits [ids.length, vocab] for one sequence starting at position 0. */
export function qwenForwardCpu(config: ModelConfig, weight: WeightLookup, ids: readonly number[]): Float32Array {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V, rmsNormEps: eps } = config;
  const T = ids.length;
  for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`token id ${id} is outside the vocabulary (0..${V - 1})`);
  const positions = ids.map((_, t) => t);
  const slots = ids.map(() => 0);
  const rope = { headDim: d, theta: config.ropeTheta, maxPositions: Math.max(T, 1) };
  const bias = (name: string) => (config.qkvBias ? weight(name) : null);

  const x = embed(weight('model.embed_tokens.weight'), ids, H);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    // Attention block.
    const h = rmsNormCpu(x, weight(p + 'input_layernorm.weight'), { rows: T, length: H }, eps);
    let q = matmulCpu(h, weight(p + 'self_attn.q_proj.weight'), T, nH * d, H, { bias: bias(p + 'self_attn.q_proj.bias') });
    let k = matmulCpu(h, weight(p + 'self_attn.k_proj.weight'), T, nKv * d, H, { bias: bias(p + 'self_attn.k_proj.bias') });
    const v = matmulCpu(h, weight(p + 'self_attn.v_proj.weight'), T, nKv * d, H, { bias: bias(p + 'self_attn.v_proj.bias') });
    if (config.qkNorm) {
      q = rmsNormCpu(q, weight(p + 'self_attn.q_norm.weight'), { rows: T, groups: nH, length: d }, eps);
      k = rmsNormCpu(k, weight(p + 'self_attn.k_norm.weight'), { rows: T, groups: nKv, length: d }, eps);
    }
    q = ropeCpu(q, positions, { tokens: T, heads: nH }, rope);
    k = ropeCpu(k, positions, { tokens: T, heads: nKv }, rope);
    const cache = new KvCacheCpu({ slots: 1, kvHeads: nKv, headDim: d, maxSeq: T });
    cache.write(k, v, slots, positions);
    const attn = attentionCpu(q, cache, slots, positions, nH);
    const o = matmulCpu(attn, weight(p + 'self_attn.o_proj.weight'), T, H, nH * d, { bias: config.outputBias ? weight(p + 'self_attn.o_proj.bias') : null });
    addInPlace(x, o);
    // MLP block.
    const h2 = rmsNormCpu(x, weight(p + 'post_attention_layernorm.weight'), { rows: T, length: H }, eps);
    const gate = matmulCpu(h2, weight(p + 'mlp.gate_proj.weight'), T, I, H);
    const up = matmulCpu(h2, weight(p + 'mlp.up_proj.weight'), T, I, H);
    const down = matmulCpu(swigluCpu(gate, up), weight(p + 'mlp.down_proj.weight'), T, H, I);
    addInPlace(x, down);
  }
  const final = rmsNormCpu(x, weight('model.norm.weight'), { rows: T, length: H }, eps);
  const head = weight(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return matmulCpu(final, head, T, V, H);
}
