// The model policy from a Hugging Face-layout folder under Node (Dawn): load the checkpoint, merge
// an optional PEFT adapter into it, build the engine and the model's own tokenizer. The policy
// itself (src/agent/model-policy.ts) is DOM- and Node-free; only this opener touches the file system.
import { existsSync, statSync } from 'node:fs';
import { loadModel } from '../hf-io/load-model';
import { NodeDirSource } from '../hf-io/node-sources';
import { mergeLora } from '../training/merged-weights';
import type { SamplingOptions } from '../engine/generate';
import type { WeightFormat } from '../engine/quant/formats';
import { createModelPolicy, type ModelPolicy } from '../agent/model-policy';
import { openPeftAdapter } from './adapter-setup';
import { cliTokenizer, createCliEngine } from './engine-setup';
import { CliError } from './flags';

export interface ModelPolicyFromDirOptions {
  modelDir: string;
  /** A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), merged into the base. */
  adapterDir?: string;
  quant?: WeightFormat;
  seed?: number;
  /** Longest conversation + reply the KV cache holds (capped by max_position_embeddings). Default 4096. */
  maxContext?: number;
  /** Episodes whose turns are generated together. Default 1. */
  maxBatch?: number;
  maxNewTokens?: number;
  sampling?: SamplingOptions;
  enableThinking?: boolean;
}

export type NodeModelPolicy = ModelPolicy & { destroy(): void };

export async function createModelPolicyFromDir(options: ModelPolicyFromDirOptions): Promise<NodeModelPolicy> {
  const { modelDir, adapterDir } = options;
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw new CliError(`--model ${modelDir}: not a directory`);
  const model = await loadModel(new NodeDirSource(modelDir));
  const tokenizer = await cliTokenizer(model, modelDir);
  const adapter = adapterDir ? await openPeftAdapter(adapterDir) : undefined;
  const checkpoint = adapter ? mergeLora(model.checkpoint, adapter.tensors, adapter.config) : model.checkpoint;
  const engine = await createCliEngine(
    { ...model, checkpoint },
    { format: options.quant ?? 'f32', maxContext: options.maxContext ?? 4096, maxBatch: options.maxBatch ?? 1 },
  ).catch((e: Error) => {
    // A mismatched adapter fails while the merged weights upload; name the adapter folder.
    throw adapter && /adapter/.test(e.message) ? new CliError(`--adapter ${adapterDir}: ${e.message}`) : e;
  });
  const policy = createModelPolicy({
    engine,
    tokenizer,
    seed: options.seed,
    maxNewTokens: options.maxNewTokens,
    sampling: options.sampling,
    enableThinking: options.enableThinking,
    name: adapterDir ? 'model+adapter' : 'model',
  });
  return Object.assign(policy, { destroy: () => engine.destroy() });
}
