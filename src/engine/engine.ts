// QwenEngine: a loaded model on a GPUDevice with its KV cache and activation plan. No DOM: the
// same class runs in the browser worker and under Node (Dawn).
//
// Every forward step is encoded into one command buffer; the only readbacks are results the
// caller asked for (logits here, token ids in generation).
import type { ByteCache } from '../hf-io/cache';
import type { ModelConfig } from '../hf-io/config';
import type { GpuContext } from './gpu/context';
import { createActivations, destroyActivations, type Activations } from './model/activations';
import { ADAPTER_FINGERPRINT, defaultStepTokens, planActivations, planInferenceLora, planLogitRows, planTotal } from './model/buffer-plan';
import { createPlanned } from './gpu/planned';
import { encodeForward, type ForwardLora, type ForwardStep } from './model/forward';
import type { LoraInferenceAdapter } from './model/lora-view';
import { destroyQwenWeights, uploadQwenWeights, type QwenWeights, type TensorProvider, type WeightLoadProgress } from './model/qwen-weights';
import { KvCache } from './ops/kv-cache';
import { PrefixCache } from './prefix-cache';
import { fingerprintBuffers } from './ops/fingerprint';
import type { WeightFormat } from './quant/formats';

export class EngineError extends Error {
  constructor(
    readonly code: 'context-overflow' | 'bad-input' | 'cancelled' | 'out-of-memory' | 'device-lost',
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface EngineOptions {
  format: WeightFormat;
  /** Longest sequence (prompt + generated tokens) the KV cache holds. */
  maxContext: number;
  /** Sequences decoded together. */
  maxBatch: number;
  /** Tokens per prefill step (longer prompts are prefilled in chunks). */
  maxStepTokens?: number;
  onProgress?: (p: WeightLoadProgress) => void;
  /** Where q8/q4 weights are cached between loads (see quant/weight-cache.ts). */
  weightCache?: ByteCache;
  /** Test hook: forces small weight and KV chunks to exercise the splitting paths. */
  maxChunkBytes?: number;
}

export interface MemoryReport {
  weights: number;
  kvCache: number;
  activations: number;
  other: number;
  total: number;
}

export class QwenEngine {
  /** LoRA applied by every forward step (generation included); null = the base model. */
  private lora: ForwardLora | null = null;
  /** Which token ids each KV-cache slot holds, for generate()'s prefix reuse. */
  readonly prefixCache: PrefixCache;
  /** Adapter identities, for weightsKey. */
  private readonly adapterIds = new WeakMap<LoraInferenceAdapter, number>();
  private nextAdapterId = 0;
  private fingerprintSums: GPUBuffer | null = null;

  private constructor(
    readonly ctx: GpuContext,
    readonly config: ModelConfig,
    readonly options: Required<Omit<EngineOptions, 'onProgress' | 'maxChunkBytes' | 'weightCache'>>,
    readonly weights: QwenWeights,
    readonly cache: KvCache,
    readonly acts: Activations,
  ) {
    this.prefixCache = new PrefixCache(options.maxBatch);
  }

  static async create(ctx: GpuContext, config: ModelConfig, checkpoint: TensorProvider, options: EngineOptions): Promise<QwenEngine> {
    const maxContext = options.maxContext;
    if (!Number.isInteger(maxContext) || maxContext < 1) throw new EngineError('bad-input', `maxContext must be a positive integer, got ${maxContext}`);
    if (maxContext > config.maxPositionEmbeddings) {
      throw new EngineError('bad-input', `maxContext ${maxContext} exceeds the model's max_position_embeddings (${config.maxPositionEmbeddings})`);
    }
    const maxBatch = options.maxBatch;
    const maxStepTokens = options.maxStepTokens ?? defaultStepTokens(maxContext, maxBatch);
    const resolved = { format: options.format, maxContext, maxBatch, maxStepTokens };
    const weights = await uploadQwenWeights(ctx, config, checkpoint, {
      format: options.format,
      maxPositions: maxContext,
      onProgress: options.onProgress,
      maxChunkBytes: options.maxChunkBytes,
      weightCache: options.weightCache,
    });
    try {
      const cache = new KvCache(ctx, {
        layers: config.numLayers,
        slots: maxBatch,
        kvHeads: config.numKvHeads,
        headDim: config.headDim,
        maxSeq: maxContext,
        maxChunkBytes: options.maxChunkBytes,
      });
      const acts = createActivations(ctx, config, maxStepTokens, planLogitRows(config, maxBatch, maxStepTokens));
      return new QwenEngine(ctx, config, resolved, weights, cache, acts);
    } catch (e) {
      destroyQwenWeights(ctx, weights);
      throw e;
    }
  }

  /**
   * Applies `adapter` in every following forward step (null switches LoRA off: the base policy).
   * The adapter's buffers stay owned by the caller; the engine only keeps a u scratch buffer.
   */
  setAdapter(adapter: LoraInferenceAdapter | null) {
    if (this.lora && (!adapter || adapter.config.rank !== this.lora.adapter.config.rank)) {
      this.ctx.destroy(this.lora.u);
      this.lora = null;
    }
    if (!adapter) return;
    if (adapter.modelConfig !== this.config && adapter.modelConfig.hiddenSize !== this.config.hiddenSize)
      throw new EngineError('bad-input', 'the adapter was made for another model');
    this.lora = { adapter, u: this.lora?.u ?? createPlanned(this.ctx, planInferenceLora(this.acts.maxTokens, adapter.config.rank)) };
  }

  /**
   * Names the weights forward steps run with now, for generate's prefix cache (K/V is reused only
   * under the same name): 'base', or the adapter's identity and a 64-bit fingerprint of its
   * current weights, so an adapter updated in place (by the optimizer) never reuses stale K/V.
   */
  async weightsKey(): Promise<string> {
    const adapter = this.lora?.adapter;
    if (!adapter) return 'base';
    let id = this.adapterIds.get(adapter);
    if (id === undefined) this.adapterIds.set(adapter, (id = ++this.nextAdapterId));
    this.fingerprintSums ??= createPlanned(this.ctx, ADAPTER_FINGERPRINT);
    const [h1, h2] = await fingerprintBuffers(
      this.ctx,
      adapter.parameters().map((p) => ({ buffer: p.param, words: p.length })),
      this.fingerprintSums,
    );
    return `lora ${id} ${h1.toString(16)}.${h2.toString(16)}`;
  }

  get adapter(): LoraInferenceAdapter | null {
    return this.lora?.adapter ?? null;
  }

  /** Tracked activation bytes (memoryReport().activations) of an engine with these options, from the size table. */
  static estimateActivationBytes(config: ModelConfig, maxStepTokens: number, maxBatch = 1): number {
    return planTotal(planActivations(config, maxStepTokens, planLogitRows(config, maxBatch, maxStepTokens)), ['activations']);
  }

  memoryReport(): MemoryReport {
    const r = this.ctx.memoryReport();
    return { weights: r.weights, kvCache: r['kv-cache'], activations: r.activations, other: r.lora + r.optimizer + r.scratch, total: r.total };
  }

  checkIds(ids: readonly number[], what = 'input'): void {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize)
        throw new EngineError('bad-input', `${what}: token id ${id} is outside the vocabulary (0..${this.config.vocabSize - 1})`);
    }
  }

  /**
   * Logits for every position of each sequence: result[s] is [ids.length, vocab]. Sequences run in
   * their own cache slots; inputs go through in steps of as many tokens as the logits buffer has rows.
   */
  async logits(sequences: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (sequences.length > this.options.maxBatch)
      throw new EngineError('bad-input', `${sequences.length} sequences, the engine was created for at most ${this.options.maxBatch}`);
    const V = this.config.vocabSize;
    const results: Float32Array[] = [];
    for (const [slot, ids] of sequences.entries()) {
      this.checkIds(ids, `sequence ${slot}`);
      if (ids.length === 0) throw new EngineError('bad-input', `sequence ${slot} is empty`);
      if (ids.length > this.options.maxContext)
        throw new EngineError('context-overflow', `sequence ${slot} has ${ids.length} tokens, more than the context of ${this.options.maxContext}`);
      const out = new Float32Array(ids.length * V);
      this.prefixCache.forget(slot); // overwritten here, untracked
      const step = this.acts.maxLogitRows;
      for (let start = 0; start < ids.length; start += step) {
        const chunk = ids.slice(start, start + step);
        this.writeStep(
          chunk,
          chunk.map(() => slot),
          chunk.map((_, i) => start + i),
          chunk.map((_, i) => i),
        );
        this.runStep({ tokens: chunk.length, logitRows: chunk.length });
        out.set(new Float32Array(await this.ctx.read(this.acts.logits, chunk.length * V * 4)), start * V);
      }
      results.push(out);
    }
    return results;
  }

  /** Uploads one step's per-token inputs (small writes, queued before the step's command buffer). */
  writeStep(ids: readonly number[], slots: readonly number[], positions: readonly number[], logitRows: readonly number[]) {
    const { ctx, acts } = this;
    ctx.write(acts.ids, Uint32Array.from(ids));
    ctx.write(acts.slots, Uint32Array.from(slots));
    ctx.write(acts.positions, Uint32Array.from(positions));
    if (logitRows.length > 0) ctx.write(acts.logitRows, Uint32Array.from(logitRows));
  }

  /** Encodes one forward step into a single command buffer and submits it. */
  runStep(step: ForwardStep, after?: (encoder: GPUCommandEncoder) => void) {
    const encoder = this.ctx.device.createCommandEncoder({ label: 'forward step' });
    const pass = encoder.beginComputePass();
    encodeForward(this.ctx, pass, this.config, this.weights, this.cache, this.acts, step, this.lora ?? undefined);
    pass.end();
    after?.(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  destroy() {
    this.setAdapter(null);
    if (this.fingerprintSums) this.ctx.destroy(this.fingerprintSums);
    destroyActivations(this.ctx, this.acts);
    this.cache.destroy();
    destroyQwenWeights(this.ctx, this.weights);
  }
}
