// EngineHost: everything the engine worker does, minus the message plumbing, so it runs (and is
// tested) under Node with Dawn exactly as in the browser worker. It owns one model at a time:
// its engine (weights, KV cache, activations) and tokenizer.
import { readAll } from '../hf-io/byte-source';
import type { ByteCache } from '../hf-io/cache';
import { paramCount } from '../hf-io/config';
import { HubSource } from '../hf-io/hub-source';
import { loadModel, type LoadedModel } from '../hf-io/load-model';
import { ModelLoadError } from '../hf-io/errors';
import { LocalFilesSource, MemoryModelSource, type DownloadProgress, type ModelSource } from '../hf-io/sources';
import { UrlFilesSource } from '../hf-io/url-files-source';
import { loadTokenizer, type QwenTokenizer } from '../hf-io/tokenizer';
import { bundledTokenizerFiles } from '../../models/tokenizers/bundled';
import { makeTinyModel } from '../../models/tiny-model';
import { GpuContext } from '../engine/gpu/context';
import { EngineError, QwenEngine } from '../engine/engine';
import { generate as engineGenerate } from '../engine/generate';
import { TurnCodec } from '../agent/codec';
import { TranscriptBook, type Transcript } from '../agent/transcript';
import { computeModelIdentity } from '../checkpoints/model-identity';
import type { CheckpointStore } from '../checkpoints/store';
import type { CheckpointSummary, ModelIdentity } from '../checkpoints/types';
import { validateTrainingConfig, type TrainingConfig } from './training-types';
import { TrainingSession } from './training-session';
import { AdapterError, CheckpointAdapters } from './adapter-host';
import type {
  AdaptersRequest,
  AdapterListResult,
  GenerateRequest,
  GenerateResult,
  LoadRequest,
  LoadResult,
  MemoryResult,
  ModelChoice,
  WorkerEvent,
} from './protocol';

export class HostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface EngineHostOptions {
  /** Returns the (single) device; called lazily and again after a device loss. */
  getDevice: () => Promise<GPUDevice>;
  /** Download cache for hub models (browser: Cache API). */
  cache?: ByteCache;
  /** Quantized (q8/q4) weights between loads, so a reload skips quantization (browser: Cache API). */
  weightCache?: ByteCache;
  /** Where training checkpoints go (browser: IndexedDB). */
  checkpointStore?: CheckpointStore;
  fetch?: typeof fetch;
  /** The batched generator; tests substitute a scripted one. */
  generate?: typeof engineGenerate;
}

interface Loaded {
  engine: QwenEngine;
  tokenizer: QwenTokenizer;
  result: LoadResult;
  /** The base model's identity for checkpoints (hashes computed on first use). */
  identity: () => Promise<ModelIdentity>;
  /** Live episode transcripts of conversation turns, one book per thinking setting. */
  transcripts: Map<boolean, TranscriptBook>;
}

/** Download-rate tracker for progress events: bytes/s over the whole download, and an ETA. */
function rateTracker() {
  const start = performance.now();
  return (p: DownloadProgress) => {
    const seconds = Math.max(1e-3, (performance.now() - start) / 1000);
    const fresh = p.overallLoaded;
    const bytesPerSecond = fresh / seconds;
    const etaSeconds = p.overallTotal !== undefined && bytesPerSecond > 0 ? (p.overallTotal - p.overallLoaded) / bytesPerSecond : undefined;
    return { bytesPerSecond, etaSeconds };
  };
}

export class EngineHost {
  private loaded: Loaded | undefined;
  private training: TrainingSession | undefined;
  /** Devices seen lost, with why: every GPU object on them is gone. */
  private readonly losses = new WeakMap<GPUDevice, GPUDeviceLostInfo>();
  private readonly watched = new WeakSet<GPUDevice>();
  /** Set when a device loss dropped the model, so the next request says so instead of "no model". */
  private lostModel: string | undefined;
  private readonly adapters: CheckpointAdapters;
  /** Settles when the last generate call has finished: calls run one at a time (see generate). */
  private generating: Promise<void> = Promise.resolve();

  constructor(private readonly options: EngineHostOptions) {
    this.adapters = new CheckpointAdapters(options.checkpointStore);
  }

  get model(): Loaded | undefined {
    return this.loaded;
  }

  private async source(choice: ModelChoice): Promise<ModelSource> {
    switch (choice.kind) {
      case 'hub':
        return new HubSource({ repo: choice.repo, revision: choice.revision, baseUrl: choice.baseUrl, cache: this.options.cache, fetch: this.options.fetch });
      case 'local':
        if (choice.files.length === 0) throw new HostError('model-load', 'the chosen folder has no files');
        return new LocalFilesSource(choice.files);
      case 'tiny': {
        const parsed = await bundledTokenizerFiles(choice.arch === 'qwen3' ? 'qwen3' : 'qwen2.5');
        const enc = new TextEncoder();
        const tokenizerFiles = new Map([
          ['tokenizer.json', enc.encode(JSON.stringify(parsed.tokenizerJson))],
          ['tokenizer_config.json', enc.encode(JSON.stringify(parsed.tokenizerConfig))],
        ]);
        return new MemoryModelSource(
          makeTinyModel({ arch: choice.arch, vocab: 'real', tokenizerFiles }).files,
          `built-in tiny ${choice.arch} (random weights)`,
        );
      }
      case 'bundled':
        if (choice.files.length === 0) throw new HostError('model-load', `${choice.label}: no files given`);
        return new UrlFilesSource(choice.files, choice.label, this.options.fetch);
    }
  }

  async load(request: Omit<LoadRequest, 'type'>, emit: (e: WorkerEvent) => void, signal?: AbortSignal): Promise<LoadResult> {
    this.unload();
    const started = performance.now();
    const source = await this.source(request.model);
    const rate = rateTracker();
    let model: LoadedModel;
    try {
      model = await loadModel(source, {
        signal,
        onProgress: (p) =>
          emit({
            kind: 'download',
            file: p.file,
            loaded: p.loaded,
            total: p.total,
            overallLoaded: p.overallLoaded,
            overallTotal: p.overallTotal,
            fromCache: p.fromCache,
            ...rate(p),
          }),
      });
    } catch (e) {
      if (e instanceof ModelLoadError) throw new HostError('model-load', e.message);
      throw e;
    }
    const tokenizerJson = model.files.get('tokenizer.json');
    const tokenizerConfig = model.files.get('tokenizer_config.json');
    if (!tokenizerJson || !tokenizerConfig)
      throw new HostError('model-load', `${source.label}: tokenizer.json and tokenizer_config.json are required for the playground`);
    const tokenizer = loadTokenizer({ tokenizerJson: await readAll(tokenizerJson), tokenizerConfig: await readAll(tokenizerConfig) });
    const device = await this.options.getDevice();
    this.watch(device);
    if (this.losses.has(device)) throw this.lossError(device, 'the GPU device was lost before loading');
    const ctx = new GpuContext(device);
    const maxContext = Math.min(request.maxContext, model.config.maxPositionEmbeddings);
    // WebGPU reports allocation failures asynchronously through error scopes, not exceptions:
    // running out of memory, and (validation) a buffer larger than the device's limits.
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let engine: QwenEngine | undefined;
    try {
      engine = await QwenEngine.create(ctx, model.config, model.checkpoint, {
        format: request.quant,
        maxContext,
        maxBatch: request.maxBatch,
        weightCache: this.options.weightCache,
        onProgress: (p) => emit({ kind: 'upload', done: p.done, total: p.total, tensor: p.name, format: request.quant, fromCache: p.fromCache }),
      });
    } catch (e) {
      await this.rethrowWithLoss(device, e);
    } finally {
      const invalid = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (oom || invalid || this.losses.has(device)) engine?.destroy();
      if (oom) {
        throw new HostError(
          'out-of-memory',
          `the GPU ran out of memory loading ${source.label} as ${request.quant} (${oom.message}). Try q4, a smaller model, or a shorter context.`,
        );
      }
      if (invalid) {
        // The usual cause is a buffer over a device limit (maxBufferSize, maxStorageBufferBindingSize),
        // which WebGPU's message names; the sizes grow with the context and the batch.
        const detail = invalid.message.split('\n')[0];
        const overLimit = /limit/i.test(detail);
        throw new HostError(
          overLimit ? 'out-of-memory' : 'internal',
          `the GPU refused to set up ${source.label} as ${request.quant} with a context of ${maxContext} and batch ${request.maxBatch}: ${detail}${overLimit ? ' Try a shorter context or a smaller batch.' : ''}`,
        );
      }
      if (this.losses.has(device)) throw this.lossError(device, `the GPU device was lost while loading ${source.label}`);
    }
    if (!engine) throw new HostError('internal', 'the engine was not created'); // unreachable: create threw
    const choice = request.model;
    const result: LoadResult = {
      label: source.label,
      ...(choice.kind === 'hub' || choice.kind === 'bundled' ? { registryId: choice.registryId } : {}),
      architecture: model.config.architecture,
      family: tokenizer.family,
      format: request.quant,
      params: paramCount(model.config),
      vocabSize: model.config.vocabSize,
      maxContext,
      maxBatch: request.maxBatch,
      memory: engine.memoryReport(),
      seconds: (performance.now() - started) / 1000,
    };
    const [repo, revision] =
      choice.kind === 'hub'
        ? [choice.repo, choice.revision]
        : choice.kind === 'tiny'
          ? [`builtin/tiny-${choice.arch}`, 'random-weights']
          : choice.kind === 'bundled'
            ? [`bundled/${choice.registryId}`, 'app']
            : ['local folder', 'local'];
    let identity: Promise<ModelIdentity> | undefined;
    const files = model.files;
    this.loaded = {
      engine,
      tokenizer,
      result,
      transcripts: new Map(),
      identity: () =>
        (identity ??= (async () =>
          computeModelIdentity({
            repo,
            revision,
            configJson: await readAll(files.get('config.json')!),
            weightFiles: [...files.keys()].filter((f) => f.endsWith('.safetensors')).map((name) => ({ name, source: files.get(name)! })),
          }))()),
    };
    return result;
  }

  private require(): Loaded {
    if (!this.loaded && this.lostModel) throw new HostError('device-lost', this.lostModel);
    if (!this.loaded) throw new HostError('no-model', 'no model is loaded: load one first');
    return this.loaded;
  }

  /** Notices a device's loss itself (the worker also reports it to the UI), dropping the model on it. */
  private watch(device: GPUDevice) {
    if (this.watched.has(device)) return;
    this.watched.add(device);
    void device.lost.then((info) => {
      this.losses.set(device, info);
      if (this.loaded?.engine.ctx.device === device) this.forgetAfterDeviceLoss(info);
    });
  }

  private lossError(device: GPUDevice, what: string): HostError {
    return new HostError('device-lost', `${what}${lossReason(this.losses.get(device))}. Load the model again.`);
  }

  /**
   * Rethrows `err`, or a 'device-lost' error when the device was lost meanwhile: a lost device
   * fails pending readbacks with a bare AbortError, which would otherwise read as "cancelled".
   * The loss is reported asynchronously, so an unexplained failure waits briefly for it.
   */
  private async rethrowWithLoss(device: GPUDevice, err: unknown): Promise<never> {
    const explained = err instanceof HostError || err instanceof EngineError || err instanceof ModelLoadError || err instanceof AdapterError;
    if (!explained && !this.losses.has(device)) {
      const info = await Promise.race([device.lost, new Promise<undefined>((resolve) => setTimeout(resolve, 250))]);
      if (info) this.losses.set(device, info);
    }
    if (this.losses.has(device)) throw this.lossError(device, 'the GPU device was lost');
    throw err;
  }

  /** Lists stored checkpoints with whether they fit the loaded model, or imports PEFT files. */
  adapterRequest(request: AdaptersRequest): Promise<AdapterListResult | CheckpointSummary> {
    if (request.op === 'list') return this.adapters.list(this.loaded);
    if (request.op === 'import') return this.adapters.importPeft(request.files, request.name);
    throw new HostError('bad-request', `unknown adapters op ${JSON.stringify((request as { op: unknown }).op)}`);
  }

  /** The model-turn codec's transcripts for conversations with this thinking setting. */
  private transcripts(loaded: Loaded, enableThinking: boolean | undefined): TranscriptBook {
    const codec = new TurnCodec({ tokenizer: loaded.tokenizer, modelEosIds: loaded.engine.config.eosTokenIds, enableThinking });
    let book = loaded.transcripts.get(codec.enableThinking);
    if (!book) loaded.transcripts.set(codec.enableThinking, (book = new TranscriptBook(codec)));
    return book;
  }

  /**
   * Generates for a batch of conversations or raw prompt ids. Conversations go through the
   * model-turn codec (src/agent/): the same prompt ids, stop ids and raw turn text (special tokens
   * kept, stop token dropped) as the CLI eval and GRPO. Raw prompt ids are generated as given, their
   * text decoded without special tokens. With `request.adapter`, that checkpoint's LoRA is on for
   * this call only. Calls run one at a time, after every earlier one has finished (they share the KV
   * cache slots and the engine's adapter); a call cancelled while waiting never starts.
   */
  async generate(request: Omit<GenerateRequest, 'type'>, emit: (e: WorkerEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    const earlier = this.generating;
    let finished!: () => void;
    this.generating = new Promise<void>((resolve) => (finished = resolve));
    let adapterSetOn: Loaded['engine'] | undefined;
    try {
      await earlier;
      if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
      const loaded = this.require();
      const { engine, tokenizer } = loaded;
      if (request.adapter) {
        engine.setAdapter(await this.checkpointAdapter(loaded, request.adapter));
        adapterSetOn = engine;
      }
      const book = this.transcripts(loaded, request.enableThinking);
      const codec = book.codec;
      const turns = request.promptIds ? undefined : request.conversations?.map((c) => book.prompt(c.messages, c.tools ?? []));
      const transcripts: Transcript[] | undefined = turns?.map((t) => t.transcript);
      const prompts = request.promptIds ?? turns?.map((t) => t.promptIds);
      if (!prompts || prompts.length === 0) throw new HostError('bad-request', 'generate needs conversations or promptIds');
      const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: !transcripts });
      const started = performance.now();
      const streams = prompts.map(() => [] as number[]);
      const device = engine.ctx.device;
      const out = await (this.options.generate ?? engineGenerate)(
        engine,
        prompts.map((promptIds) => ({ promptIds, maxNewTokens: request.maxNewTokens, stopIds: codec.stopIds, stopStrings: request.stopStrings })),
        request.sampling,
        {
          signal,
          detokenize: decode,
          onToken: (sequence, id) => {
            // A conversation turn's stop token is not part of its text.
            if (transcripts && codec.isStop(id)) return emit({ kind: 'token', sequence, id, text: '' });
            // Emit the text delta of the whole sequence so multi-token characters come out whole.
            const before = decode(streams[sequence]);
            streams[sequence].push(id);
            emit({ kind: 'token', sequence, id, text: decode(streams[sequence]).slice(before.length) });
          },
        },
      ).catch((e) => {
        transcripts?.forEach((t) => t.abandon());
        return this.rethrowWithLoss(device, e);
      });
      const generated = out.reduce((n, s) => n + s.ids.length, 0);
      return {
        sequences: out.map((s, i) => ({
          ids: s.ids,
          text: transcripts ? transcripts[i].record(s) : (s.text ?? decode(s.ids)),
          logprobs: s.logprobs,
          finishReason: s.finishReason,
          promptTokens: prompts[i].length,
        })),
        tokensPerSecond: generated / Math.max(1e-3, (performance.now() - started) / 1000),
      };
    } finally {
      adapterSetOn?.setAdapter(null);
      finished();
    }
  }

  /** A generate request's checkpoint LoRA, checked against the loaded model (not during training). */
  private checkpointAdapter(loaded: Loaded, spec: NonNullable<GenerateRequest['adapter']>) {
    if (this.training) throw new HostError('busy', 'a training run is using the model: stop it before running an adapter');
    if (typeof spec.checkpointId !== 'string') throw new HostError('bad-request', 'adapter.checkpointId must be a string');
    return this.adapters.adapterFor(loaded, spec.checkpointId);
  }

  async train(config: TrainingConfig, emit: (e: WorkerEvent) => void, signal: AbortSignal) {
    const loaded = this.require();
    if (this.training) throw new HostError('busy', 'a training run is already going: stop it first');
    const problems = validateTrainingConfig(config);
    if (problems.length) throw new HostError('bad-request', `training config: ${problems.join('; ')}`);
    const session = (this.training = new TrainingSession());
    try {
      return await session
        .run(
          { engine: loaded.engine, tokenizer: loaded.tokenizer, identity: loaded.identity, store: this.options.checkpointStore, label: loaded.result.label },
          config,
          emit,
          signal,
        )
        .catch((e) => this.rethrowWithLoss(loaded.engine.ctx.device, e));
    } finally {
      this.training = undefined;
    }
  }

  trainControl(action: 'pause' | 'resume' | 'stop') {
    if (!this.training) throw new HostError('not-training', 'no training run is going');
    this.training.control(action);
    return { ok: true };
  }

  memory(): MemoryResult {
    return this.require().engine.memoryReport();
  }

  unload() {
    this.training?.control('stop');
    this.adapters.drop();
    this.loaded?.engine.destroy();
    this.loaded = undefined;
    this.lostModel = undefined;
  }

  /**
   * After a device loss every GPU object is gone: drop the model (and uploaded adapters, stop
   * training) so the next load starts clean. The host calls this itself when it sees the loss;
   * the worker may call it first, with or without the loss info.
   */
  forgetAfterDeviceLoss(info?: GPUDeviceLostInfo) {
    if (this.loaded) this.lostModel = `the GPU device was lost${lossReason(info)}, and ${this.loaded.result.label} with it. Load the model again.`;
    this.training?.control('stop');
    this.adapters.drop();
    this.loaded = undefined;
  }
}

/** " (destroyed: device was destroyed)": why a device was lost, for error messages. */
function lossReason(info: GPUDeviceLostInfo | undefined): string {
  return info ? ` (${info.reason}${info.message ? `: ${info.message}` : ''})` : '';
}

/** Maps any error to the protocol's {code, message}. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof HostError || err instanceof AdapterError) return { code: err.code, message: err.message };
  if (err instanceof EngineError) return { code: err.code, message: err.message };
  if (err instanceof ModelLoadError) return { code: 'model-load', message: err.message };
  const e = err as Error;
  if (e?.name === 'AbortError') return { code: 'cancelled', message: 'cancelled' };
  if (e?.name === 'GPUOutOfMemoryError' || /out of memory/i.test(e?.message ?? ''))
    return { code: 'out-of-memory', message: `the GPU ran out of memory: ${e.message}. Try a smaller model, q4, or a shorter context.` };
  return { code: 'internal', message: e?.message ?? String(err) };
}
