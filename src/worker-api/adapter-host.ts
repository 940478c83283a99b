// Stored checkpoints as inference adapters, for EngineHost: which ones fit the loaded model, the
// GPU copy of the one in use (kept by id, so the turns of an episode upload it once), and the
// import of PEFT files into the store.
import type { QwenEngine } from '../engine/engine';
import { CheckpointError, CheckpointNotFoundError } from '../checkpoints/errors';
import type { CheckpointStore } from '../checkpoints/store';
import type { CheckpointSummary, LoadedCheckpoint, ModelIdentity } from '../checkpoints/types';
import { LoraAdapter } from '../training/model/lora-adapter';
import type { LoraTarget } from '../engine/ops/lora-targets';
import { PeftAdapterError } from '../peft/import';
import { ModelLoadError } from '../hf-io/errors';
import { adapterFitProblem } from './adapter-fit';
import { isFingerprinted, peftImportToCheckpoint } from './adapter-import';
import type { AdapterListItem, AdapterListResult } from './protocol';

/** An adapter problem for the UI: `code` is 'bad-adapter', 'adapter-mismatch', 'checkpoint-not-found' or 'no-checkpoint-store'. */
export class AdapterError extends Error {
  override name = 'AdapterError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The loaded model as this helper needs it. */
export interface AdapterModel {
  engine: QwenEngine;
  identity: () => Promise<ModelIdentity>;
}

interface Fit {
  problem?: string;
  imported: boolean;
  rank: number;
}

export class CheckpointAdapters {
  /** Fit of each checkpoint id on `fitsFor` (checkpoint contents never change; names may). */
  private fits = new Map<string, Fit>();
  private fitsFor: QwenEngine | undefined;
  private uploaded: { checkpointId: string; engine: QwenEngine; adapter: LoraAdapter } | undefined;

  constructor(private readonly store: CheckpointStore | undefined) {}

  private requireStore(): CheckpointStore {
    if (!this.store) throw new AdapterError('no-checkpoint-store', 'checkpoints are unavailable here (no IndexedDB)');
    return this.store;
  }

  private async load(checkpointId: string): Promise<LoadedCheckpoint> {
    try {
      return await this.requireStore().load(checkpointId, { expectedBaseModel: 'any' });
    } catch (e) {
      if (e instanceof CheckpointNotFoundError) throw new AdapterError('checkpoint-not-found', e.message);
      if (e instanceof CheckpointError) throw new AdapterError('bad-adapter', e.message);
      throw e;
    }
  }

  private async fitOf(model: AdapterModel, checkpointId: string, loaded?: LoadedCheckpoint): Promise<Fit> {
    if (this.fitsFor !== model.engine) {
      this.fits.clear();
      this.fitsFor = model.engine;
    }
    let fit = this.fits.get(checkpointId);
    if (!fit) {
      const checkpoint = loaded ?? (await this.load(checkpointId));
      fit = {
        problem: await adapterFitProblem(checkpoint, model.engine.config, model.identity),
        imported: !isFingerprinted(checkpoint.baseModel),
        rank: checkpoint.lora.rank,
      };
      this.fits.set(checkpointId, fit);
    }
    return fit;
  }

  /** Every stored checkpoint, with whether it fits the loaded model (none does without one). */
  async list(model: AdapterModel | undefined): Promise<AdapterListResult> {
    const rows = await this.requireStore().list();
    const items: AdapterListItem[] = [];
    for (const row of rows) {
      const item = { id: row.id, name: row.name, step: row.step, baseModel: row.baseModel };
      if (row.problem) {
        items.push({ ...item, fits: false, imported: false, problem: row.problem });
        continue;
      }
      if (!model) {
        items.push({ ...item, fits: false, imported: false, problem: 'no model is loaded' });
        continue;
      }
      try {
        const fit = await this.fitOf(model, row.id);
        items.push({ ...item, fits: !fit.problem, imported: fit.imported, rank: fit.rank, ...(fit.problem ? { problem: fit.problem } : {}) });
      } catch (e) {
        items.push({ ...item, fits: false, imported: false, problem: (e as Error).message }); // deleted meanwhile, damaged
      }
    }
    return { modelLoaded: !!model, items };
  }

  /**
   * The checkpoint's adapter on the GPU, checked against the loaded model. The last one stays
   * uploaded (keyed by checkpoint id and engine) until another is asked for or `drop()`.
   */
  async adapterFor(model: AdapterModel, checkpointId: string): Promise<LoraAdapter> {
    const cached = this.uploaded;
    if (cached && cached.checkpointId === checkpointId && cached.engine === model.engine) return cached.adapter;
    const checkpoint = await this.load(checkpointId);
    this.fits.delete(checkpointId); // check the data just read, not an older answer
    const fit = await this.fitOf(model, checkpointId, checkpoint);
    if (fit.problem) throw new AdapterError('adapter-mismatch', `Checkpoint '${checkpoint.name}' does not fit the loaded model: ${fit.problem}`);
    this.drop();
    const { rank, alpha, targetModules } = checkpoint.lora;
    const adapter = new LoraAdapter(model.engine.ctx, model.engine.config, { rank, alpha, targets: targetModules as LoraTarget[] });
    try {
      adapter.load(new Map(Object.entries(checkpoint.adapter).map(([name, t]) => [name, { shape: t.shape, values: t.data }])));
    } catch (e) {
      adapter.destroy();
      throw new AdapterError('bad-adapter', `Checkpoint '${checkpoint.name}': ${(e as Error).message}`);
    }
    this.uploaded = { checkpointId, engine: model.engine, adapter };
    return adapter;
  }

  /** Frees the uploaded adapter (call when the engine goes away). */
  drop() {
    this.uploaded?.adapter.destroy();
    this.uploaded = undefined;
  }

  /** Reads PEFT files into a new checkpoint. Malformed files store nothing. */
  async importPeft(files: File[], name?: string): Promise<CheckpointSummary> {
    const store = this.requireStore();
    let checkpoint;
    try {
      checkpoint = await peftImportToCheckpoint(files, name);
    } catch (e) {
      if (e instanceof PeftAdapterError || e instanceof ModelLoadError) throw new AdapterError('bad-adapter', e.message);
      throw e;
    }
    try {
      return await store.save(checkpoint);
    } catch (e) {
      if (e instanceof CheckpointError) throw new AdapterError('bad-adapter', e.message);
      throw e;
    }
  }
}
