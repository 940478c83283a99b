// App-wide state shared by the panels: the engine worker client and what model it holds.
import { createSignal } from 'solid-js';
import type { CapabilitiesResult, LoadResult } from '../worker-api/protocol';
import type { ModelConfig } from '../hf-io/config';
import type { WeightFormat } from '../engine/quant/formats';
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

/** A model as the memory plans see it: its dimensions and the engine options it is (or would be) loaded with. */
export interface PlannedModel {
  label: string;
  config: ModelConfig;
  quant: WeightFormat;
  context: number;
  batch: number;
}
/** The Model tab's current pick (null when its dimensions are unknown before loading, e.g. a local folder). */
export const [modelPick, setModelPick] = createSignal<PlannedModel | null>(null);
/** The pick the loaded model was loaded from (null with no model, or one of unknown dimensions). */
export const [loadedPick, setLoadedPick] = createSignal<PlannedModel | null>(null);
