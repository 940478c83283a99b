// Importing a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors picked by the
// user) as a stored checkpoint. Pure TypeScript, no GPU: it runs in the engine worker so that
// parsing and checking a large adapter does not freeze the page.
//
// What an imported checkpoint records, and why:
// - baseModel: the repo and revision adapter_config.json names (base_model_name_or_path,
//   revision). PEFT files carry no fingerprint of the base weights, so the hashes are the
//   NOT_FINGERPRINTED placeholder and `files` is empty (a computed identity always lists at least
//   one weight file, so the two cannot be confused). Such a checkpoint is applied to any loaded
//   model whose shapes it fits (adapter-fit.ts); resuming training from it is refused by the
//   store's identity check, as for any other model mismatch.
// - optimizer: the store requires AdamW moments for every adapter tensor; zeros with step 0 are
//   exactly a fresh AdamW state, so nothing is invented. They cost twice the adapter's size.
import { blobSource } from '../hf-io/byte-source';
import { peftFilesToCheckpointAdapter } from '../peft/export';
import { PeftAdapterError } from '../peft/import';
import { MAX_NAME_LENGTH } from '../checkpoints/validate-input';
import type { CheckpointData, ModelIdentity, TensorMap } from '../checkpoints/types';
import { CHECKPOINT_SIDECAR, parseSidecar } from './checkpoint-sidecar';

/** The hash placeholder of a base model nobody fingerprinted (64 zeros: valid hex, no real SHA-256). */
export const NOT_FINGERPRINTED = '0'.repeat(64);
const MAX_REPO_LENGTH = 300;

/** Whether the identity was computed from real model files (false for imported PEFT adapters). */
export function isFingerprinted(identity: ModelIdentity): boolean {
  return identity.files.length > 0;
}

/** The folder a file was picked in ("my-adapter/adapter_config.json" → "my-adapter"). */
function folderOf(file: File): string | undefined {
  const parts = (file.webkitRelativePath ?? '').split('/').filter(Boolean);
  return parts.length > 1 ? parts[parts.length - 2] : undefined;
}

/** Finds adapter_config.json and the weights among the picked files (a folder may hold more). */
export function pickPeftFiles(files: readonly File[]): { config: File; weights: File; name: string } {
  if (files.length === 0) throw new PeftAdapterError('no files were picked: choose adapter_config.json and adapter_model.safetensors, or their folder');
  const config = files.find((f) => f.name === 'adapter_config.json');
  const tensors = files.filter((f) => f.name.endsWith('.safetensors'));
  const weights = tensors.find((f) => f.name === 'adapter_model.safetensors') ?? (tensors.length === 1 ? tensors[0] : undefined);
  const names = files
    .map((f) => f.name)
    .slice(0, 6)
    .join(', ');
  if (!config) throw new PeftAdapterError(`adapter_config.json is missing (picked: ${names})`);
  if (!weights) {
    if (files.some((f) => f.name === 'adapter_model.bin')) {
      throw new PeftAdapterError(
        'adapter_model.bin (PyTorch pickle) is not supported: save the adapter with safe_serialization=True to get adapter_model.safetensors',
      );
    }
    throw new PeftAdapterError(
      tensors.length > 1
        ? `several .safetensors files were picked (${tensors.map((f) => f.name).join(', ')}) and none is adapter_model.safetensors`
        : `adapter_model.safetensors is missing (picked: ${names})`,
    );
  }
  const name = folderOf(weights) ?? folderOf(config) ?? weights.name.replace(/\.safetensors$/, '');
  return { config, weights, name };
}

function zerosLike(adapter: TensorMap): TensorMap {
  return Object.fromEntries(Object.entries(adapter).map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.data.length) }]));
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Reads and checks the PEFT files (every problem is a PeftAdapterError naming the file and the
 * field or tensor) and returns the checkpoint to store: step 0, fresh optimizer state.
 */
export async function peftImportToCheckpoint(files: readonly File[], name?: string): Promise<CheckpointData> {
  const picked = pickPeftFiles(files);
  const config = new Uint8Array(await picked.config.arrayBuffer());
  // Random access: the safetensors reader fetches the header, then one tensor at a time.
  const weights = blobSource(picked.weights.name, picked.weights);
  const imported = await peftFilesToCheckpointAdapter({ config, weights });
  // Our own exports carry the checkpoint's name and step next to the PEFT files.
  const note = files.find((f) => f.name === CHECKPOINT_SIDECAR);
  let sidecar: { name?: string; step?: number } = {};
  if (note) {
    try {
      sidecar = parseSidecar(await note.text(), MAX_NAME_LENGTH);
    } catch (e) {
      throw new PeftAdapterError((e as Error).message);
    }
  }
  const baseModel: ModelIdentity = {
    repo: clip(imported.baseModel?.repo ?? 'unknown (adapter_config.json names no base model)', MAX_REPO_LENGTH),
    revision: clip(imported.baseModel?.revision ?? 'unspecified', MAX_REPO_LENGTH),
    configSha256: NOT_FINGERPRINTED,
    weightsSha256: NOT_FINGERPRINTED,
    files: [],
    scheme: 'sampled-v1',
  };
  return {
    name: clip((name ?? sidecar.name ?? picked.name).trim() || 'imported adapter', MAX_NAME_LENGTH),
    step: sidecar.step ?? 0,
    baseModel,
    lora: imported.lora,
    adapter: imported.adapter,
    optimizer: { step: 0, m: zerosLike(imported.adapter), v: zerosLike(imported.adapter) },
    rng: { algorithm: 'none', state: [] },
    trainerConfig: { source: 'peft-import', files: [picked.config.name, picked.weights.name] },
    metrics: [],
  };
}
