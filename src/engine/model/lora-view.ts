// What inference needs of a LoRA adapter: per layer, each adapted module's A and B buffers and
// where its output goes in the fused layout, plus the parameter buffers the prefix cache
// fingerprints. The training adapter (src/training/model/lora-adapter.ts) owns these buffers and
// satisfies this interface structurally; the engine depends on this view only, never on training.
import type { ModelConfig } from '../../hf-io/config';
import type { LoraModuleBuffers } from '../ops/lora';
import type { LoraTarget, LoraTargetLayout } from '../ops/lora-targets';

export interface LoraInferenceModule extends LoraModuleBuffers {
  readonly layout: LoraTargetLayout;
}

export interface LoraInferenceAdapter {
  /** The model the adapter was made for (checked against the engine's). */
  readonly modelConfig: ModelConfig;
  readonly config: { readonly rank: number };
  /** Modules by layer, then target; a target absent from a layer's map is not adapted. */
  readonly byLayer: readonly ReadonlyMap<LoraTarget, LoraInferenceModule>[];
  /** Every A and B buffer with its length in f32 values (the weights the forward reads). */
  parameters(): readonly { param: GPUBuffer; length: number }[];
}
