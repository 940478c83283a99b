// The stored checkpoints the policy selectors offer as adapters, asked from the engine worker
// (it knows the loaded model's shapes and identity). Refetched when the model changes and when a
// panel reports a change to the store (import, rename, delete).
import { createResource, createSignal, type Resource } from 'solid-js';
import type { AdapterListResult } from '../worker-api/protocol';
import { engine, loadedModel } from './state';

const [version, setVersion] = createSignal(0);

/** Changes with every checkpointsChanged() call: a source for views that list the store. */
export const checkpointsVersion = version;

/** Call after changing the checkpoint store, so every selector lists the new state. */
export function checkpointsChanged() {
  setVersion(version() + 1);
}

const EMPTY: AdapterListResult = { modelLoaded: false, items: [] };

/** The list, or an empty one with `error` set when the worker cannot answer. */
export function createAdapterList(): { list: Resource<AdapterListResult & { error?: string }>; refetch: () => void } {
  const [list, { refetch }] = createResource(
    () => ({ model: loadedModel(), version: version() }),
    async (key) => {
      if (!key.model) return EMPTY; // nothing fits without a model: no need to read the store
      try {
        return await engine().listAdapters();
      } catch (e) {
        return { ...EMPTY, error: (e as Error).message };
      }
    },
  );
  return { list, refetch: () => void refetch() };
}
