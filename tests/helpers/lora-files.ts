// LoRA adapters of a chosen model shape for tests: as a checkpoint TensorMap and as PEFT files.
import type { ModelConfig } from '../../src/hf-io/config';
import { peftLoraTensorName } from '../../src/checkpoints/peft-names';
import type { TensorMap } from '../../src/checkpoints/types';
import { LORA_TARGETS, loraTargetLayout, type LoraTarget } from '../../src/engine/ops/lora-targets';
import { exportPeftAdapter, type PeftAdapterFiles } from '../../src/peft/export';
import type { PeftTensor } from '../../src/peft/import';

export type ShapeConfig = Pick<ModelConfig, 'numLayers' | 'hiddenSize' | 'intermediateSize' | 'numHeads' | 'numKvHeads' | 'headDim'>;

/** The built-in tiny Qwen2 with the real vocabulary (models/tiny-model.ts defaults). */
export const TINY_QWEN2_SHAPE: ShapeConfig = { numLayers: 2, hiddenSize: 32, intermediateSize: 64, numHeads: 4, numKvHeads: 2, headDim: 8 };
/** The built-in tiny Qwen3 (the app's "tiny-qwen3-random"): head_dim 2·hidden/heads. */
export const TINY_QWEN3_SHAPE: ShapeConfig = { ...TINY_QWEN2_SHAPE, headDim: 16 };

export interface LoraSpec {
  rank: number;
  /** Scale of B's values; 0 gives PEFT's initial (no-op) adapter. */
  bScale: number;
  targets?: readonly LoraTarget[];
  seed?: number;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 4294967296) * 2 - 1;
  };
}

/** A and B for every layer and target of `shape`, deterministic from the seed. */
export function loraTensors(shape: ShapeConfig, spec: LoraSpec): TensorMap {
  const rand = seeded(spec.seed ?? 5);
  const out: TensorMap = {};
  for (let layer = 0; layer < shape.numLayers; layer++) {
    for (const target of spec.targets ?? LORA_TARGETS) {
      const { inFeatures, outFeatures } = loraTargetLayout(shape, target);
      out[peftLoraTensorName(layer, target, 'A')] = {
        shape: [spec.rank, inFeatures],
        data: Float32Array.from({ length: spec.rank * inFeatures }, () => rand() / Math.sqrt(inFeatures)),
      };
      out[peftLoraTensorName(layer, target, 'B')] = {
        shape: [outFeatures, spec.rank],
        data: Float32Array.from({ length: outFeatures * spec.rank }, () => rand() * spec.bScale),
      };
    }
  }
  return out;
}

export function toPeftTensors(map: TensorMap): Map<string, PeftTensor> {
  return new Map(Object.entries(map).map(([name, t]) => [name, { shape: t.shape, values: t.data }]));
}

/** PEFT files (adapter_config.json, adapter_model.safetensors) naming `baseRepo`. */
export function loraPeftFiles(shape: ShapeConfig, spec: LoraSpec, baseRepo = 'builtin/tiny-qwen2'): PeftAdapterFiles {
  return exportPeftAdapter({
    tensors: toPeftTensors(loraTensors(shape, spec)),
    rank: spec.rank,
    alpha: 2 * spec.rank,
    targetModules: spec.targets ?? LORA_TARGETS,
    baseModel: { repo: baseRepo },
    modelCard: false,
  });
}
