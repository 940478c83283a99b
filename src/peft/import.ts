// Reading PEFT LoRA adapters (adapter_config.json + adapter_model.safetensors) into the
// name → tensor map LoraAdapter loads, with the checks that keep a foreign file from being
// applied wrongly: only plain LoRA on the Qwen attention/MLP projections is accepted.
import { bytesSource, type ByteSource } from '../hf-io/byte-source';
import { SafetensorsFile, tensorToFloat32 } from '../hf-io/safetensors';
import { LORA_TARGETS } from '../engine/ops/lora-targets';
import { peftLoraTensorName } from '../checkpoints/peft-names';

export interface PeftTensor {
  shape: number[];
  values: Float32Array;
}

/** Every adapter problem (bad config field, missing or misshapen tensor) raises this, naming the file and field/tensor. */
export class PeftAdapterError extends Error {
  override name = 'PeftAdapterError';
}

/** Reads every tensor of a safetensors file as f32, names unchanged (adapters and gradient files alike). */
export async function readPeftTensors(source: ByteSource): Promise<Map<string, PeftTensor>> {
  const file = await SafetensorsFile.open(source);
  const out = new Map<string, PeftTensor>();
  for (const name of file.names) {
    const t = await file.tensor(name);
    out.set(name, { shape: t.shape, values: tensorToFloat32(t) });
  }
  return out;
}

export interface PeftAdapterConfig {
  rank: number;
  alpha: number;
  targets: string[];
}

/** Fields whose non-default values change what the adapter computes in ways we do not implement. */
function checkUnsupported(json: Record<string, unknown>, fileName: string) {
  const fail = (why: string) => {
    throw new PeftAdapterError(`${fileName}: ${why}`);
  };
  const present = (key: string) => {
    const v = json[key];
    if (v === undefined || v === null || v === false) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.keys(v).length > 0;
    return true;
  };
  if (json.use_dora === true) fail('DoRA adapters are not supported');
  if (json.use_rslora === true) fail('rsLoRA scaling is not supported');
  if (json.bias !== undefined && json.bias !== 'none')
    fail(`"bias" is ${JSON.stringify(json.bias)}; only "none" is supported (trained biases are not applied)`);
  if (json.lora_bias === true) fail('"lora_bias" adapters are not supported');
  if (json.fan_in_fan_out === true) fail('"fan_in_fan_out": true is for GPT-2 style Conv1D weights, not Qwen Linear layers');
  if (present('modules_to_save'))
    fail(`"modules_to_save" (${JSON.stringify(json.modules_to_save)}) is not supported: fully trained modules cannot be applied as LoRA`);
  if (present('rank_pattern')) fail('"rank_pattern" (per-module ranks) is not supported');
  if (present('alpha_pattern')) fail('"alpha_pattern" (per-module alphas) is not supported');
  if (present('layers_to_transform')) fail('"layers_to_transform" is not supported: the adapter must cover every layer');
  if (present('layer_replication')) fail('"layer_replication" is not supported');
  if (present('exclude_modules')) fail('"exclude_modules" is not supported');
  if (present('trainable_token_indices')) fail('"trainable_token_indices" is not supported');
  if (present('target_parameters')) fail('"target_parameters" is not supported');
}

function parsePeftAdapterConfigJson(text: string, fileName: string): { config: PeftAdapterConfig; json: Record<string, unknown> } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PeftAdapterError(`${fileName}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PeftAdapterError(`${fileName}: must be a JSON object`);
  if (json.peft_type !== undefined && json.peft_type !== 'LORA')
    throw new PeftAdapterError(`${fileName}: peft_type is ${String(json.peft_type)}, only LORA adapters are supported`);
  const rank = json.r;
  const alpha = json.lora_alpha;
  if (!Number.isInteger(rank) || (rank as number) < 1) throw new PeftAdapterError(`${fileName}: "r" must be a positive integer, got ${JSON.stringify(rank)}`);
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha))
    throw new PeftAdapterError(`${fileName}: "lora_alpha" must be a positive number, got ${JSON.stringify(alpha)}`);
  const targets = json.target_modules;
  if (typeof targets === 'string') {
    throw new PeftAdapterError(
      `${fileName}: "target_modules" is the pattern ${JSON.stringify(targets)}; patterns are not supported, list the module names (e.g. ["q_proj", "v_proj"])`,
    );
  }
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string'))
    throw new PeftAdapterError(`${fileName}: "target_modules" must be a list of module names`);
  checkUnsupported(json, fileName);
  return { config: { rank: rank as number, alpha, targets: targets as string[] }, json };
}

// ---------------------------------------------------------------------------------------------
// Tensor names and the adapter's structure

export interface PeftTensorName {
  layer: number;
  module: string;
  which: 'A' | 'B';
}

const MLP_MODULES = ['gate_proj', 'up_proj', 'down_proj'];
const NAME_PATTERN = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_(A|B)(\.default)?\.weight$/;

/**
 * Parses a PEFT LoRA tensor name. PEFT saves `...q_proj.lora_A.weight`; its in-memory state dicts
 * (and some older saves) carry the adapter name, `...q_proj.lora_A.default.weight`: both are read.
 * Returns undefined for anything else (embeddings, biases, a different block or model layout).
 */
export function parsePeftTensorName(name: string): PeftTensorName | undefined {
  const m = NAME_PATTERN.exec(name);
  if (!m) return undefined;
  const layer = Number(m[1]);
  const module = m[3];
  if (!Number.isSafeInteger(layer) || !(LORA_TARGETS as readonly string[]).includes(module)) return undefined;
  // The block must be the module's own (q_proj lives in self_attn, gate_proj in mlp).
  const block = MLP_MODULES.includes(module) ? 'mlp' : 'self_attn';
  if (block !== m[2]) return undefined;
  return { layer, module, which: m[4] as 'A' | 'B' };
}

const EXPECTED_NAME = 'base_model.model.model.layers.N.{self_attn|mlp}.MODULE.lora_{A|B}.weight';

/**
 * Checks that `tensors` is a complete LoRA adapter for `targets` at `rank`: every name is a LoRA
 * weight of a listed module, layers run 0..L-1 with every target in each, A is [rank, in] and
 * B [out, rank] with the same in/out in every layer, and all values are finite. `where` prefixes
 * each message (the file name or the calling function).
 */
export function checkPeftTensors(tensors: ReadonlyMap<string, PeftTensor>, config: { rank: number; targets: readonly string[] }, where: string) {
  const fail = (why: string): never => {
    throw new PeftAdapterError(`${where}: ${why}`);
  };
  const { rank, targets } = config;
  if (targets.length === 0) fail('no target modules');
  for (const t of targets) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) fail(`target module '${t}' is not supported (expected some of ${LORA_TARGETS.join(', ')})`);
  }
  if (new Set(targets).size !== targets.length) fail(`target modules ${JSON.stringify(targets)} list a module twice`);
  if (tensors.size === 0) fail('the adapter has no tensors');
  let maxLayer = -1;
  const modulesIn = new Map<string, number[]>(); // module → [in, out] seen first
  for (const [name, t] of tensors) {
    const parsed = parsePeftTensorName(name);
    if (!parsed || name.includes('.default.')) fail(`tensor '${name}' is not a LoRA weight name we understand (expected ${EXPECTED_NAME})`);
    const { layer, module, which } = parsed!;
    if (!targets.includes(module)) fail(`tensor '${name}' adapts ${module}, which is not in the target modules ${JSON.stringify(targets)}`);
    maxLayer = Math.max(maxLayer, layer);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d > 0))
      fail(`tensor '${name}' must be 2-D with positive sizes, got shape [${String(shape)}]`);
    const count = shape[0] * shape[1];
    if (!(t.values instanceof Float32Array) || t.values.length !== count)
      fail(`tensor '${name}' has ${t.values?.length} values but shape [${shape.join(', ')}] needs ${count}`);
    const rankDim = which === 'A' ? shape[0] : shape[1];
    if (rankDim !== rank)
      fail(`tensor '${name}' has shape [${shape.join(', ')}]; lora_${which} must be ${which === 'A' ? '[r, in]' : '[out, r]'} with r = ${rank}`);
    const partner = peftLoraTensorName(layer, module, which === 'A' ? 'B' : 'A');
    if (!tensors.has(partner)) fail(`tensor '${name}' has no matching '${partner}'`);
    const features = which === 'A' ? shape[1] : shape[0];
    const seen = modulesIn.get(module) ?? [0, 0];
    const slot = which === 'A' ? 0 : 1;
    if (seen[slot] === 0) seen[slot] = features;
    else if (seen[slot] !== features)
      fail(`tensor '${name}' has shape [${shape.join(', ')}], but ${module} has ${which === 'A' ? 'in' : 'out'} features ${seen[slot]} in another layer`);
    modulesIn.set(module, seen);
    const bad = t.values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`tensor '${name}' has a non-finite value (${t.values[bad]}) at index ${bad}`);
  }
  for (let layer = 0; layer <= maxLayer; layer++) {
    for (const module of targets) {
      const name = peftLoraTensorName(layer, module, 'A');
      if (!tensors.has(name)) fail(`tensor '${name}' is missing: the adapter must cover ${targets.join(', ')} in every layer 0..${maxLayer}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Import

export interface PeftAdapterFilesInput {
  /** adapter_config.json, as text or bytes. */
  config: string | Uint8Array;
  /** adapter_model.safetensors. */
  weights: ByteSource | Uint8Array;
}

export interface ImportedPeftAdapter {
  config: PeftAdapterConfig;
  /** By PEFT name as PEFT saves it (`...lora_A.weight`, no adapter-name infix), f32. */
  tensors: Map<string, PeftTensor>;
  /** base_model_name_or_path and revision, when the config names them. */
  baseModel?: { repo: string; revision: string | null };
}

function decodeConfig(config: string | Uint8Array): string {
  if (typeof config === 'string') return config;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(config);
  } catch {
    throw new PeftAdapterError('adapter_config.json: not valid UTF-8 text');
  }
}

/**
 * Reads a PEFT LoRA adapter as PEFT's save_pretrained writes it. F16/BF16/F32 tensors become f32;
 * `.lora_A.default.weight` names are normalised to `.lora_A.weight`. Anything we cannot apply
 * exactly (patterns, DoRA, rsLoRA, modules_to_save, biases, partial layers) is a PeftAdapterError.
 */
export async function importPeftAdapter(files: PeftAdapterFilesInput): Promise<ImportedPeftAdapter> {
  const { config, json } = parsePeftAdapterConfigJson(decodeConfig(files.config), 'adapter_config.json');
  const source = files.weights instanceof Uint8Array ? bytesSource('adapter_model.safetensors', files.weights) : files.weights;
  const raw = await readPeftTensors(source);
  const tensors = new Map<string, PeftTensor>();
  for (const [name, t] of raw) {
    const parsed = parsePeftTensorName(name);
    if (!parsed) throw new PeftAdapterError(`${source.name}: tensor '${name}' is not a LoRA weight name we understand (expected ${EXPECTED_NAME})`);
    const canonical = peftLoraTensorName(parsed.layer, parsed.module, parsed.which);
    if (tensors.has(canonical)) throw new PeftAdapterError(`${source.name}: tensor '${name}' appears twice (with and without the '.default' adapter name)`);
    tensors.set(canonical, t);
  }
  checkPeftTensors(tensors, { rank: config.rank, targets: config.targets }, source.name);
  const repo = json.base_model_name_or_path;
  const revision = json.revision;
  const baseModel = typeof repo === 'string' && repo !== '' ? { repo, revision: typeof revision === 'string' ? revision : null } : undefined;
  return { config, tensors, ...(baseModel ? { baseModel } : {}) };
}
