// Where each PEFT target module's LoRA reads and writes in the engine's fused layout
// (src/engine/model/qwen-weights.ts): q/k/v share the fused `qkv` output, rows [q; k; v];
// gate/up share `gateUp`, rows [gate; up]; o and down have their own outputs.
import type { ModelConfig } from '../../hf-io/config';
import type { LoraSlice } from './lora';

export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraTargetLayout {
  /** K: the module's input features (lora_A is [rank, K]). */
  inFeatures: number;
  /** N: the module's output features (lora_B is [N, rank]). */
  outFeatures: number;
  /**
   * Which engine activation the module's matmul writes (and whose gradient its backward reads):
   * o_proj and down_proj accumulate straight into the residual stream.
   */
  output: 'qkv' | 'gateUp' | 'residual';
  /** The module's columns within that output's rows. */
  slice: LoraSlice;
}

export function loraTargetLayout(
  config: Pick<ModelConfig, 'hiddenSize' | 'intermediateSize' | 'numHeads' | 'numKvHeads' | 'headDim'>,
  target: LoraTarget,
): LoraTargetLayout {
  const { hiddenSize: H, intermediateSize: I, numHeads: nH, numKvHeads: nKv, headDim: d } = config;
  const qkvWidth = (nH + 2 * nKv) * d;
  switch (target) {
    case 'q_proj':
      return { inFeatures: H, outFeatures: nH * d, output: 'qkv', slice: { rowStride: qkvWidth, colOffset: 0 } };
    case 'k_proj':
      return { inFeatures: H, outFeatures: nKv * d, output: 'qkv', slice: { rowStride: qkvWidth, colOffset: nH * d } };
    case 'v_proj':
      return { inFeatures: H, outFeatures: nKv * d, output: 'qkv', slice: { rowStride: qkvWidth, colOffset: (nH + nKv) * d } };
    case 'o_proj':
      return { inFeatures: nH * d, outFeatures: H, output: 'residual', slice: { rowStride: H, colOffset: 0 } };
    case 'gate_proj':
      return { inFeatures: H, outFeatures: I, output: 'gateUp', slice: { rowStride: 2 * I, colOffset: 0 } };
    case 'up_proj':
      return { inFeatures: H, outFeatures: I, output: 'gateUp', slice: { rowStride: 2 * I, colOffset: I } };
    case 'down_proj':
      return { inFeatures: I, outFeatures: H, output: 'residual', slice: { rowStride: H, colOffset: 0 } };
    default:
      throw new Error(`loraTargetLayout: unknown target module '${String(target)}' (expected one of ${LORA_TARGETS.join(', ')})`);
  }
}
