// Typed access to models/registry.json: the supported hub models, the tiny test model and the
// models committed in this repository (the demo agent).
import registryJson from '../../models/registry.json';
import type { Architecture } from './config';
import { SUPPORTED_ARCHITECTURES } from './config';
import { ModelLoadError } from './errors';

export type ChatTemplateFamily = 'qwen2.5' | 'qwen3';

interface EntryBase {
  id: string;
  label: string;
  architecture: Architecture;
  chatTemplate: ChatTemplateFamily;
  params: number;
  approxBf16Bytes: number;
  files: string[];
}

export interface HubModelEntry extends EntryBase {
  source: 'hub';
  repo: string;
  revision: string;
}

export interface TinyModelEntry extends EntryBase {
  source: 'tiny';
  /** Options for makeTinyModel (models/tiny-model.ts). */
  tiny: { arch: 'qwen2' | 'qwen3'; vocab: 'real' | 'reduced'; seed: number };
}

/** A model committed in this repository (e.g. models/demo-agent): offline, nothing to download. */
export interface BundledModelEntry extends EntryBase {
  source: 'bundled';
  /** Hugging Face-layout folder, relative to the repository root. */
  path: string;
}

export type RegistryEntry = HubModelEntry | TinyModelEntry | BundledModelEntry;

/** Validates registry JSON; every problem names the entry id and field. */
export function parseRegistry(json: unknown, fileName = 'models/registry.json'): RegistryEntry[] {
  const models = (json as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new ModelLoadError(`${fileName}: missing "models" list`);
  const ids = new Set<string>();
  return models.map((m: Record<string, unknown>, i) => {
    const id = typeof m?.id === 'string' ? m.id : `#${i}`;
    const fail = (msg: string): never => {
      throw new ModelLoadError(`${fileName}: model "${id}": ${msg}`);
    };
    if (typeof m?.id !== 'string' || !m.id) fail('field "id" must be a non-empty string');
    if (ids.has(id)) fail('duplicate id');
    ids.add(id);
    if (typeof m.label !== 'string') fail('field "label" must be a string');
    if (!SUPPORTED_ARCHITECTURES.includes(m.architecture as Architecture)) fail(`unsupported architecture ${JSON.stringify(m.architecture)}`);
    if (m.chatTemplate !== 'qwen2.5' && m.chatTemplate !== 'qwen3')
      fail(`field "chatTemplate" must be qwen2.5 or qwen3, got ${JSON.stringify(m.chatTemplate)}`);
    for (const f of ['params', 'approxBf16Bytes']) if (!Number.isSafeInteger(m[f]) || (m[f] as number) <= 0) fail(`field "${f}" must be a positive integer`);
    if (!Array.isArray(m.files) || !m.files.every((f) => typeof f === 'string') || !m.files.includes('config.json'))
      fail('field "files" must list file names including config.json');
    if (m.source === 'hub') {
      if (typeof m.repo !== 'string' || !/^[\w.-]+\/[\w.-]+$/.test(m.repo) || m.repo.split('/').some((seg) => /^\.+$/.test(seg)))
        fail('field "repo" must be owner/name');
      if (typeof m.revision !== 'string' || !m.revision) fail('field "revision" must be a non-empty string');
    } else if (m.source === 'tiny') {
      const t = m.tiny as Record<string, unknown> | undefined;
      if (!t || (t.arch !== 'qwen2' && t.arch !== 'qwen3') || (t.vocab !== 'real' && t.vocab !== 'reduced') || !Number.isInteger(t.seed))
        fail('field "tiny" must be { arch, vocab, seed }');
    } else if (m.source === 'bundled') {
      if (typeof m.path !== 'string' || !/^models\/[\w.-]+$/.test(m.path) || /\/\.+$/.test(m.path))
        fail('field "path" must be a folder under models/ (e.g. "models/demo-agent")');
    } else {
      fail(`field "source" must be "hub", "tiny" or "bundled", got ${JSON.stringify(m.source)}`);
    }
    return m as unknown as RegistryEntry;
  });
}

export const MODEL_REGISTRY: readonly RegistryEntry[] = parseRegistry(registryJson);

export function findModel(id: string): RegistryEntry {
  const entry = MODEL_REGISTRY.find((m) => m.id === id);
  if (!entry) throw new ModelLoadError(`unknown model "${id}" (known: ${MODEL_REGISTRY.map((m) => m.id).join(', ')})`);
  return entry;
}
