// Built-in adapters (bundled-files.ts): a PEFT folder shipped with the app next to its bundled
// model, e.g. the demo agent's aligned adapter. It becomes a stored checkpoint through the same
// PEFT import as a user's folder (the worker parses and checks it), so every policy selector
// offers it where it fits, and Demo mode can put it beside its base model at once.
import { CHECKPOINT_SIDECAR, parseSidecar, sidecarText } from '../worker-api/checkpoint-sidecar';
import type { AdapterListItem } from '../worker-api/protocol';
import type { CheckpointSummary } from '../checkpoints/types';
import { builtinAdapters, type BuiltinAdapter } from './bundled-files';
import type { EngineClient } from './engine-client';

export interface BuiltinAdapterInfo extends BuiltinAdapter {
  /** The checkpoint name it is stored under: its sidecar's, else "<model id> <folder> (built-in)". */
  name: string;
  /** Its training step: the sidecar's, else trainer_state.json's (the CLI trainer's), else 0. */
  step: number;
}

const TRAINER_STATE = 'trainer_state.json';

async function fetchOk(url: string, what: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} at ${url}`);
  return response;
}

/** The step trainer_state.json records ({"step": N, ...}); a malformed one is an error naming it. */
export function trainerStateStep(text: string, where: string): number {
  let step: unknown;
  try {
    step = (JSON.parse(text) as { step?: unknown })?.step;
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (!Number.isInteger(step) || (step as number) < 0) throw new Error(`${where}: "step" must be a whole number ≥ 0, got ${JSON.stringify(step)}`);
  return step as number;
}

/** The built-in adapters with their names and steps (read from their sidecars or trainer states). */
export async function describeBuiltinAdapters(): Promise<BuiltinAdapterInfo[]> {
  return Promise.all(
    builtinAdapters().map(async (a) => {
      const read = async (name: string) => {
        const file = a.files.find((f) => f.name === name);
        return file ? (await fetchOk(file.url, `${a.path}/${name}`)).text() : undefined;
      };
      const name = `${a.modelId} ${a.folder} (built-in)`;
      const sidecar = await read(CHECKPOINT_SIDECAR);
      // No length limit here: the worker's import checks the name against the store's.
      const parsed = sidecar !== undefined ? parseSidecar(sidecar, Number.MAX_SAFE_INTEGER) : {};
      const state = parsed.step === undefined ? await read(TRAINER_STATE) : undefined;
      const step = parsed.step ?? (state !== undefined ? trainerStateStep(state, `${a.path}/${TRAINER_STATE}`) : 0);
      return { ...a, name: parsed.name ?? name, step };
    }),
  );
}

/** The stored checkpoint that is this built-in adapter (same name and step), if any. */
export function storedBuiltin(info: BuiltinAdapterInfo, items: readonly Pick<AdapterListItem, 'id' | 'name' | 'step'>[]): string | undefined {
  return items.find((i) => i.name === info.name && i.step === info.step)?.id;
}

/**
 * Imports the built-in adapter's PEFT files through the worker's PEFT import, with a sidecar
 * carrying its name and step (as our own exports do), and answers the new checkpoint.
 */
export async function importBuiltinAdapter(info: BuiltinAdapterInfo, engine: EngineClient): Promise<CheckpointSummary> {
  const peft = info.files.filter((f) => f.name === 'adapter_config.json' || f.name === 'adapter_model.safetensors');
  const files = await Promise.all(
    peft.map(async (f) => {
      const bytes = await (await fetchOk(f.url, `${info.path}/${f.name}`)).arrayBuffer();
      return new File([bytes], f.name, { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    }),
  );
  files.push(new File([sidecarText({ name: info.name, step: info.step })], CHECKPOINT_SIDECAR, { type: 'application/json' }));
  return engine.importAdapter(files);
}

/** The checkpoint id of the built-in adapter, importing it first when it is not stored yet. */
export async function ensureBuiltinAdapter(info: BuiltinAdapterInfo, engine: EngineClient): Promise<string> {
  const stored = storedBuiltin(info, (await engine.listAdapters()).items);
  return stored ?? (await importBuiltinAdapter(info, engine)).id;
}
