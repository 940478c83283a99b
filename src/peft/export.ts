// Writing a LoRA adapter as the files PEFT's `PeftModel.from_pretrained(model, dir)` loads:
// adapter_config.json with the keys PEFT 0.21 writes, adapter_model.safetensors (F32, PEFT's
// tensor names without the adapter-name infix), and a short model card. Also the conversions
// between the checkpoint store's types and those files, for the UI's Export/Import buttons.
import { fromFloat32 } from '../hf-io/dtypes';
import { writeSafetensors } from '../hf-io/safetensors-writer';
import type { CheckpointData, LoraConfig as CheckpointLoraConfig, TensorMap } from '../checkpoints/types';
import { checkPeftTensors, importPeftAdapter, PeftAdapterError, type PeftAdapterFilesInput, type PeftTensor } from './import';

/** The PEFT release whose adapter_config.json keys we write (and record as "peft_version"). */
export const PEFT_FORMAT_VERSION = '0.21.0';

export interface ExportPeftInput {
  /** By PEFT name, e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`. */
  tensors: ReadonlyMap<string, PeftTensor>;
  rank: number;
  alpha: number;
  targetModules: readonly string[];
  /** Training dropout, recorded for whoever resumes training in PEFT (inference ignores it). Default 0. */
  dropout?: number;
  /** The base model the adapter was trained on: base_model_name_or_path and revision. */
  baseModel?: { repo: string; revision?: string | null };
  /** Add README.md (a model card naming the base model). Default true. */
  modelCard?: boolean;
}

export interface PeftAdapterFiles {
  'adapter_config.json': Uint8Array;
  'adapter_model.safetensors': Uint8Array;
  'README.md'?: Uint8Array;
}

function fail(why: string): never {
  throw new PeftAdapterError(`exportPeftAdapter: ${why}`);
}

/**
 * adapter_config.json as PEFT 0.21 writes it for a plain LoRA on a causal LM (same keys, sorted,
 * two-space indent). Only the fields that describe our adapter differ from PEFT's defaults.
 */
function adapterConfig(input: ExportPeftInput): Record<string, unknown> {
  const config: Record<string, unknown> = {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: input.baseModel?.repo ?? null,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    kasa_config: null,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: input.alpha,
    lora_bias: false,
    lora_dropout: input.dropout ?? 0,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    monteclora_config: null,
    peft_type: 'LORA',
    peft_version: PEFT_FORMAT_VERSION,
    qalora_group_size: 16,
    r: input.rank,
    rank_pattern: {},
    revision: input.baseModel?.revision ?? null,
    target_modules: [...input.targetModules],
    target_parameters: null,
    task_type: 'CAUSAL_LM',
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: false,
    velora_config: null,
  };
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A model card in the front-matter form the Hub reads; the repo is JSON-quoted (valid YAML, inert text). */
function modelCard(input: ExportPeftInput): string {
  const repo = input.baseModel?.repo;
  return [
    '---',
    ...(repo ? [`base_model: ${JSON.stringify(repo)}`] : []),
    'library_name: peft',
    'pipeline_tag: text-generation',
    'tags:',
    '- lora',
    '- agent-safety',
    '---',
    '',
    '# LoRA adapter from Agent Safety Playground',
    '',
    `Exported by Agent Safety Playground. LoRA rank ${input.rank}, alpha ${input.alpha} (scaling ${input.alpha / input.rank}), target modules ${input.targetModules.join(', ')}.`,
    '',
    'Load it with `PeftModel.from_pretrained(base_model, this_folder)`.',
    '',
  ].join('\n');
}

export function exportPeftAdapter(input: ExportPeftInput): PeftAdapterFiles {
  const { rank, alpha, targetModules, dropout } = input;
  if (!Number.isSafeInteger(rank) || rank < 1) fail(`rank must be a positive integer, got ${JSON.stringify(rank)}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || !(alpha > 0)) fail(`alpha must be a positive number, got ${JSON.stringify(alpha)}`);
  if (dropout !== undefined && !(dropout >= 0 && dropout < 1)) fail(`dropout must be in [0, 1), got ${JSON.stringify(dropout)}`);
  if (input.baseModel && (typeof input.baseModel.repo !== 'string' || input.baseModel.repo === '')) fail('baseModel.repo must be a non-empty string');
  checkPeftTensors(input.tensors, { rank, targets: targetModules }, 'exportPeftAdapter');
  const weights = writeSafetensors(
    [...input.tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.shape], data: fromFloat32(t.values, 'F32') })),
    { format: 'pt' },
  );
  const encoder = new TextEncoder();
  const files: PeftAdapterFiles = {
    'adapter_config.json': encoder.encode(JSON.stringify(adapterConfig(input), null, 2)),
    'adapter_model.safetensors': weights,
  };
  if (input.modelCard !== false) files['README.md'] = encoder.encode(modelCard(input));
  return files;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint store ⇄ PEFT files

/** The adapter of a stored checkpoint as PEFT files (base model repo/revision from its identity). */
export function checkpointToPeftFiles(checkpoint: Pick<CheckpointData, 'adapter' | 'lora' | 'baseModel'>): PeftAdapterFiles {
  const tensors = new Map<string, PeftTensor>();
  for (const [name, t] of Object.entries(checkpoint.adapter)) tensors.set(name, { shape: t.shape, values: t.data });
  const { rank, alpha, targetModules, dropout } = checkpoint.lora;
  return exportPeftAdapter({
    tensors,
    rank,
    alpha,
    targetModules,
    dropout,
    baseModel: { repo: checkpoint.baseModel.repo, revision: checkpoint.baseModel.revision },
  });
}

export interface ImportedCheckpointAdapter {
  lora: CheckpointLoraConfig;
  adapter: TensorMap;
  /** What adapter_config.json says the adapter was trained on; the caller checks it against the loaded model. */
  baseModel?: { repo: string; revision: string | null };
}

/**
 * PEFT files → the `lora` and `adapter` parts of a CheckpointData (the caller adds the model
 * identity, a fresh optimizer state and the rest). Throws PeftAdapterError for adapters we cannot apply.
 */
export async function peftFilesToCheckpointAdapter(files: PeftAdapterFilesInput): Promise<ImportedCheckpointAdapter> {
  const imported = await importPeftAdapter(files);
  const adapter: TensorMap = {};
  for (const [name, t] of imported.tensors) adapter[name] = { shape: t.shape, data: t.values };
  const { rank, alpha, targets } = imported.config;
  return {
    lora: { rank, alpha, targetModules: targets },
    adapter,
    ...(imported.baseModel ? { baseModel: imported.baseModel } : {}),
  };
}
