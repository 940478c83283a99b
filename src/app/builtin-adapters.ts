// Built-in adapters (bundled-files.ts): a PEFT folder shipped with the app next to its bundled
// model, e.g. the demo agent's aligned adapter. It becomes a stored checkpoint through the same
// PEFT import as a user's folder (the worker parses and checks it), so every policy selector
// offers it where it fits, and Demo mode can put it beside its base model at once.
import { parseSidecar, CHECKPOINT_SIDECAR } from '../worker-api/checkpoint-sidecar';
import type { AdapterListItem } from '../worker-api/protocol';
import type { CheckpointSummary } from '../training/checkpoints/types';
import { builtinAdapters, type BuiltinAdapter } from './bundled-files';
import type { EngineClient } from './engine-client';

export interface BuiltinAdapterInfo extends BuiltinAdapter {
  /** The checkpoint name it is stored under: its sidecar's, else "<model id> <folder> (built-in)". */
  name: string;
  /** Its training step, from the sidecar; 0 when it has none. */
  step: number;
}

async function fetchOk(url: string, what: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} at ${url}`);
  return response;
}

/** The built-in adapters with their names and steps (read from their sidecars). */
export async function describeBuiltinAdapters(): Promise<BuiltinAdapterInfo[]> {
  return Promise.all(builtinAdapters().map(async (a) => {
    const fallback = { name: `${a.modelId} ${a.folder} (built-in)`, step: 0 };
    const sidecar = a.files.find((f) => f.name === CHECKPOINT_SIDECAR);
    if (!sidecar) return { ...a, ...fallback };
    // No length limit here: the worker's import checks the name against the store's.
    const parsed = parseSidecar(await (await fetchOk(sidecar.url, `${a.path}/${CHECKPOINT_SIDECAR}`)).text(), Number.MAX_SAFE_INTEGER);
    return { ...a, name: parsed.name ?? fallback.name, step: parsed.step ?? 0 };
  }));
}

/** The stored checkpoint that is this built-in adapter (imported, same name and step), if any. */
export function storedBuiltin(info: BuiltinAdapterInfo, items: readonly Pick<AdapterListItem, 'id' | 'name' | 'step'>[]): string | undefined {
  return items.find((i) => i.name === info.name && i.step === info.step)?.id;
}

/** Imports the built-in adapter's files through the worker's PEFT import; answers the new checkpoint. */
export async function importBuiltinAdapter(info: BuiltinAdapterInfo, engine: EngineClient): Promise<CheckpointSummary> {
  const files = await Promise.all(info.files.map(async (f) => {
    const bytes = await (await fetchOk(f.url, `${info.path}/${f.name}`)).arrayBuffer();
    return new File([bytes], f.name, { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  }));
  // With a sidecar the import takes its name and step; without one, name it here.
  const hasSidecar = info.files.some((f) => f.name === CHECKPOINT_SIDECAR);
  return engine.importAdapter(files, hasSidecar ? undefined : info.name);
}

/** The checkpoint id of the built-in adapter, importing it first when it is not stored yet. */
export async function ensureBuiltinAdapter(info: BuiltinAdapterInfo, engine: EngineClient): Promise<string> {
  const stored = storedBuiltin(info, (await engine.listAdapters()).items);
  return stored ?? (await importBuiltinAdapter(info, engine)).id;
}
