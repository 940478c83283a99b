// App-wide state shared by the panels: the engine worker client and what model it holds.
import { createSignal } from 'solid-js';
import type { CapabilitiesResult, LoadResult } from '../worker-api/protocol';
import { EngineClient } from './engine-client';

let engineInstance: EngineClient | undefined;

/** The one engine worker of the page, created on first use. */
export function engine(): EngineClient {
  engineInstance ??= new EngineClient();
  return engineInstance;
}

export const [loadedModel, setLoadedModel] = createSignal<LoadResult | null>(null);
export const [capabilities, setCapabilities] = createSignal<CapabilitiesResult | null>(null);
/** Tokens the model policy may generate per turn (small on software GPUs). */
export const [maxNewTokens, setMaxNewTokens] = createSignal(256);
