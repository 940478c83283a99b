// Whether a stored checkpoint's adapter can be applied to the loaded model, and if not, why.
// Two rules:
// - Shapes, always: the adapter covers layers 0..L-1 of the loaded model exactly, every target
//   module has lora_A [r, in] and lora_B [out, r] with the model's in/out features, and every value
//   is finite (a diverged training run saves NaNs; applying them would only produce garbage).
// - Identity, when the checkpoint has one: a checkpoint trained here records a fingerprint of its
//   base model's files, and is applied only to that model (the same rule as resuming training).
//   An imported PEFT adapter has no fingerprint (adapter-import.ts): its shapes decide alone, and
//   the UI says which base model it names.
import type { ModelConfig } from '../hf-io/config';
import { describeModelMismatch } from '../checkpoints/model-identity';
import type { CheckpointData, ModelIdentity } from '../checkpoints/types';
import { LORA_TARGETS, loraTargetLayout, type LoraTarget } from '../engine/ops/lora-targets';
import { parsePeftTensorName } from '../peft/import';
import { peftLoraTensorName } from '../checkpoints/peft-names';
import { isFingerprinted } from './adapter-import';

export type AdapterShape = Pick<CheckpointData, 'lora' | 'adapter'>;

/** The first shape problem of `checkpoint` on a model of `config`, or undefined when it fits. */
export function adapterShapeProblem(checkpoint: AdapterShape, config: ModelConfig): string | undefined {
  const { rank, targetModules } = checkpoint.lora;
  const unknown = targetModules.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (unknown.length) return `target modules ${unknown.join(', ')} are not supported (expected some of ${LORA_TARGETS.join(', ')})`;
  for (const name of Object.keys(checkpoint.adapter)) {
    const parsed = parsePeftTensorName(name);
    if (!parsed) return `tensor '${name}' is not a LoRA weight of a Qwen layer`;
    if (parsed.layer >= config.numLayers) return `tensor '${name}' is for layer ${parsed.layer}, the loaded model has ${config.numLayers} layers`;
    if (!targetModules.includes(parsed.module)) return `tensor '${name}' adapts ${parsed.module}, which is not in the adapter's target modules`;
  }
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const target of targetModules as LoraTarget[]) {
      const { inFeatures, outFeatures } = loraTargetLayout(config, target);
      for (const [which, want] of [
        ['A', [rank, inFeatures]],
        ['B', [outFeatures, rank]],
      ] as const) {
        const name = peftLoraTensorName(layer, target, which);
        const t = checkpoint.adapter[name];
        if (!t) return `tensor '${name}' is missing: the loaded model has ${config.numLayers} layers`;
        if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
          return `tensor '${name}' has shape [${t.shape.join(', ')}], the loaded model needs [${want.join(', ')}]`;
        }
        const bad = t.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) return `tensor '${name}' has a non-finite value (${t.data[bad]}) at index ${bad}`;
      }
    }
  }
  return undefined;
}

/** Why the checkpoint cannot be applied to the loaded model (shapes, then identity), or undefined. */
export async function adapterFitProblem(
  checkpoint: AdapterShape & Pick<CheckpointData, 'baseModel'>,
  config: ModelConfig,
  loadedIdentity: () => Promise<ModelIdentity>,
): Promise<string | undefined> {
  const shape = adapterShapeProblem(checkpoint, config);
  if (shape) return shape;
  if (!isFingerprinted(checkpoint.baseModel)) return undefined;
  const why = describeModelMismatch(checkpoint.baseModel, await loadedIdentity());
  return why ? `it was trained on another base model than the one loaded (${why})` : undefined;
}
