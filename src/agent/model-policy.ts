// The model policy: the WebGPU engine as an agent in the sandbox (the CLI's eval). No DOM and no
// Node imports.
//
// act() turns the conversation into prompt ids with the model-turn codec (codec.ts: the model's
// own chat template, tool schemas included, thinking off unless asked), keeping each episode's
// transcript (transcript.ts: previous prompt + sampled ids + delta), generates one assistant turn
// and returns its raw text, tags and all. Assistant history stays raw text too, so the model sees
// its earlier turns token for token.
//
// Batching: act() calls that arrive while the engine is busy, or within the same macrotask, are
// queued and generated together in one batched `generate` call (up to the engine's maxBatch). Run
// several episodes concurrently (runEval's `concurrency`) and their turns share decode steps.
import type { Policy, PolicyContext } from '../sandbox/policy';
import type { ChatMessage, ToolSchema } from '../sandbox/types';
import type { QwenTokenizer, ToolSpec } from '../hf-io/tokenizer';
import { EngineError, type QwenEngine } from '../engine/engine';
import { generate as engineGenerate, type GeneratedSequence, type GenerationRequest, type SamplingOptions } from '../engine/generate';
import { TurnCodec } from './codec';
import { TranscriptBook, type TranscriptStats } from './transcript';

export { turnText } from './codec';

export interface ModelPolicyOptions {
  engine: QwenEngine;
  tokenizer: QwenTokenizer;
  /** Default: Qwen's recommended sampling (temperature 0.7, top-p 0.8, top-k 20). */
  sampling?: SamplingOptions;
  /** Token budget of one assistant turn (cut to what the context has left). Default 256. */
  maxNewTokens?: number;
  /** Qwen3 only: render prompts with thinking on. Default off (the codec's DEFAULT_ENABLE_THINKING). */
  enableThinking?: boolean;
  /** Base seed of the sampling draws (each batch derives its own from it). Default 0. */
  seed?: number;
  name?: string;
  /** The batched generator; tests substitute a recording or scripted one. */
  generate?: typeof engineGenerate;
}

export interface ModelPolicyStats {
  /** Batched `generate` calls made. */
  generateCalls: number;
  /** Assistant turns generated (sum of batch sizes). */
  turns: number;
  /** Sequences in each generate call, in order. */
  batchSizes: number[];
}

export interface ModelPolicy extends Policy {
  readonly stats: ModelPolicyStats;
  /** Turns generated together at most (the engine's maxBatch): run this many episodes at once. */
  readonly maxBatch: number;
  /** Token bookkeeping of the episodes played: turns that continued their sequence, fallbacks. */
  readonly transcripts: TranscriptStats;
}

/** What one turn's meta carries (PolicyOutput.meta): the exact tokens, for training and debugging. */
export interface ModelTurnMeta extends Record<string, unknown> {
  promptTokens: number;
  ids: number[];
  logprobs: number[];
  finishReason: GeneratedSequence['finishReason'];
  /** The prompt was the previous turn's prompt + its sampled ids + the delta (no fallback). */
  continued: boolean;
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 0.7, topP: 0.8, topK: 20 };
export const DEFAULT_MAX_NEW_TOKENS = 256;

interface PendingTurn {
  request: GenerationRequest;
  signal?: AbortSignal;
  resolve(out: GeneratedSequence): void;
  reject(err: unknown): void;
}

/** A seed per generate call, so consecutive batches do not replay the same draws. */
function batchSeed(base: number, call: number): number {
  let x = (base ^ Math.imul(call + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  return (x ^ (x >>> 15)) >>> 0;
}

const nextMacrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** An abort signal for a batch: it aborts only once every turn in the batch was aborted. */
function batchSignal(turns: PendingTurn[]): AbortSignal | undefined {
  const signals = turns.map((t) => t.signal);
  if (signals.some((s) => !s)) return undefined;
  const controller = new AbortController();
  const check = () => {
    if (signals.every((s) => s!.aborted)) controller.abort();
  };
  for (const s of signals) s!.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}

export function createModelPolicy(options: ModelPolicyOptions): ModelPolicy {
  const { engine, tokenizer } = options;
  const generate = options.generate ?? engineGenerate;
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new EngineError('bad-input', `maxNewTokens must be a positive integer, got ${maxNewTokens}`);
  const sampling = options.sampling ?? DEFAULT_SAMPLING;
  const baseSeed = (options.seed ?? sampling.seed ?? 0) >>> 0;
  const codec = new TurnCodec({ tokenizer, modelEosIds: engine.config.eosTokenIds, enableThinking: options.enableThinking });
  const book = new TranscriptBook(codec);
  const stopIds = [...codec.stopIds];
  const { maxContext, maxBatch } = engine.options;
  const stats: ModelPolicyStats = { generateCalls: 0, turns: 0, batchSizes: [] };
  const queue: PendingTurn[] = [];
  let draining = false;

  async function runBatch(batch: PendingTurn[]) {
    const live = batch.filter((t) => {
      if (!t.signal?.aborted) return true;
      t.reject(new EngineError('cancelled', 'generation was cancelled'));
      return false;
    });
    if (live.length === 0) return;
    stats.generateCalls++;
    stats.turns += live.length;
    stats.batchSizes.push(live.length);
    try {
      const outs = await generate(
        engine,
        live.map((t) => t.request),
        { ...sampling, seed: batchSeed(baseSeed, stats.generateCalls - 1) },
        { signal: batchSignal(live) },
      );
      live.forEach((t, i) =>
        t.signal?.aborted || outs[i].finishReason === 'cancelled' ? t.reject(new EngineError('cancelled', 'generation was cancelled')) : t.resolve(outs[i]),
      );
    } catch (err) {
      for (const t of live) t.reject(err);
    }
  }

  // One drain loop at a time: the engine's step buffers are shared, so batches never overlap.
  async function drain() {
    draining = true;
    try {
      // Waiting one macrotask lets every episode that is about to act (they continue in
      // microtasks after the previous batch resolved them) join the batch.
      await nextMacrotask();
      while (queue.length > 0) {
        await runBatch(queue.splice(0, maxBatch));
        await nextMacrotask();
      }
    } finally {
      draining = false;
    }
  }

  return {
    name: options.name ?? 'model',
    stats,
    maxBatch,
    get transcripts() {
      return book.stats;
    },
    async act(conversation: ChatMessage[], tools: ToolSchema[], ctx: PolicyContext) {
      const { transcript, promptIds, continued } = book.prompt(conversation, tools as unknown as ToolSpec[]);
      let out: GeneratedSequence;
      try {
        const room = maxContext - promptIds.length;
        if (room < 1) {
          throw new EngineError(
            'context-overflow',
            `turn ${ctx.turn}: the conversation renders to ${promptIds.length} tokens but the context holds ${maxContext}, leaving no room for a reply`,
          );
        }
        const request: GenerationRequest = { promptIds, maxNewTokens: Math.min(maxNewTokens, room), stopIds };
        out = await new Promise<GeneratedSequence>((resolve, reject) => {
          queue.push({ request, signal: ctx.signal, resolve, reject });
          if (!draining) void drain();
        });
      } catch (err) {
        transcript.abandon();
        throw err;
      }
      const meta: ModelTurnMeta = { promptTokens: promptIds.length, ids: out.ids, logprobs: out.logprobs, finishReason: out.finishReason, continued };
      return { text: transcript.record(out), finished: out.finishReason !== 'length', meta };
    },
  };
}
