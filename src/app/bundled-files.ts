// The models committed in this repository (registry source "bundled", e.g. models/demo-agent) and
// their built-in LoRA adapters, served as the app's own build files: Vite copies each file into
// assets/ under a content-hashed name (as it does the built-in tiny model's tokenizer), so the
// service worker keeps them for offline use and nothing is downloaded from another origin.
//
// A built-in adapter is a PEFT folder inside a bundled model's folder (models/demo-agent/aligned-adapter/:
// adapter_config.json + adapter_model.safetensors; its name and step from playground_checkpoint.json,
// or its step from the CLI trainer's trainer_state.json). The globs run at build time: a folder
// that is not there when the app is built is simply not offered.
import { MODEL_REGISTRY, type BundledModelEntry } from '../hf-io/registry';

// Keys are '/models/<folder>/<file>'; values the served URL. no-inline: small files (config.json)
// stay files too, not data: URLs, which the page's CSP (connect-src 'self') would not let fetch.
const MODEL_FILES = import.meta.glob<string>('/models/*/*.{json,safetensors}', { query: '?url&no-inline', import: 'default', eager: true });
const ADAPTER_FILES = import.meta.glob<string>('/models/*/*/{adapter_config.json,adapter_model.safetensors,playground_checkpoint.json,trainer_state.json}', {
  query: '?url&no-inline',
  import: 'default',
  eager: true,
});

export interface ServedFile {
  name: string;
  url: string;
}

/** Bundled registry entries, in registry order. */
export const BUNDLED_MODELS: readonly BundledModelEntry[] = MODEL_REGISTRY.filter((m): m is BundledModelEntry => m.source === 'bundled');

export interface BuiltinAdapter {
  /** Stable id: the folder, e.g. "models/demo-agent/aligned-adapter". */
  path: string;
  /** The registry id of the bundled model it was trained on. */
  modelId: string;
  /** Its folder name, e.g. "aligned-adapter"; the checkpoint's name comes from its sidecar, else this. */
  folder: string;
  files: ServedFile[];
}

/** Absolute URLs, so the engine worker (whose own URL is under assets/) fetches the same files. */
function absolute(url: string): string {
  return new URL(url, globalThis.location?.href ?? 'http://localhost/').href;
}

function filesUnder(glob: Record<string, string>, folder: string): ServedFile[] {
  const prefix = `/${folder}/`;
  return Object.entries(glob)
    .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('/'))
    .map(([key, url]) => ({ name: key.slice(prefix.length), url: absolute(url) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The files the registry lists for a bundled model, as served by this build. Throws, naming the
 * missing files, when the build lacks one (e.g. the folder was not committed).
 */
export function bundledModelFiles(entry: BundledModelEntry): ServedFile[] {
  const served = filesUnder(MODEL_FILES, entry.path);
  const missing = entry.files.filter((f) => !served.some((s) => s.name === f));
  if (missing.length) throw new Error(`${entry.label}: this build of the app lacks ${missing.map((f) => `${entry.path}/${f}`).join(', ')}`);
  return served.filter((s) => entry.files.includes(s.name));
}

/** Built-in adapters of the bundled models: folders holding both PEFT files. */
export function builtinAdapters(): BuiltinAdapter[] {
  const out: BuiltinAdapter[] = [];
  for (const model of BUNDLED_MODELS) {
    const folders = new Set(
      Object.keys(ADAPTER_FILES)
        .filter((k) => k.startsWith(`/${model.path}/`))
        .map((k) => k.slice(1, k.lastIndexOf('/'))),
    );
    for (const path of [...folders].sort()) {
      const files = filesUnder(ADAPTER_FILES, path);
      if (!files.some((f) => f.name === 'adapter_config.json') || !files.some((f) => f.name === 'adapter_model.safetensors')) continue;
      out.push({ path, modelId: model.id, folder: path.slice(path.lastIndexOf('/') + 1), files });
    }
  }
  return out;
}
