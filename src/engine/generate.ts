// Batched generation: B sequences prefill and decode together in their own KV-cache slots, each
// with its own prompt length, token budget and stop conditions (what RL rollouts need).
//
// Per decode step: write the step's inputs (ids, slots, positions, sampling params), encode the
// forward pass and sampling into ONE command buffer, copy the sampled ids and log-probs into a
// staging buffer, submit, and map that one small buffer. Nothing else is read back.
//
// Sampling draws are keyed by (per-sequence seed, position), never by batch row or cache slot, so
// a sequence generates the same tokens whether it runs alone or in a batch, shared or not.
//
// Prompt prefixes whose K/V the engine already holds are not prefilled again (prefix-cache.ts):
// a request extending what its slot holds prefills only the new tokens, and requests sharing a
// prefix prefill it once and copy its K/V. `prefixCache: false` turns this off (every prompt is
// prefilled whole, as before). Either way the same tokens come out; log-probs agree to f32
// rounding (steps of other sizes may pick other matmul/attention kernels, as batching already does).
import { EngineError, type QwenEngine } from './engine';
import { encodeKvCopy } from './ops/kv-cache';
import { encodeSample, packSamplingParams, rowSeed, type SamplingRowParams } from './ops/sampling';
import type { PrefillPlan, PromptReuse } from './prefix-cache';

export interface SamplingOptions {
  /** Greedy (argmax) decoding; ignores the other options. */
  greedy?: boolean;
  temperature?: number;
  /** 0 = off. */
  topK?: number;
  /** 1 = off. */
  topP?: number;
  seed?: number;
}

export interface GenerationRequest {
  promptIds: readonly number[];
  maxNewTokens: number;
  /** Token ids that end the sequence (included in the output ids, like HF). Default: model EOS. */
  stopIds?: readonly number[];
  /** Text that ends the sequence; needs `detokenize`. The text is cut before the stop string. */
  stopStrings?: readonly string[];
}

export type FinishReason = 'eos' | 'stop-string' | 'length' | 'cancelled';

export interface GeneratedSequence {
  ids: number[];
  /** log p(token) under the model at temperature 1, per generated token (for RL). */
  logprobs: number[];
  /** log p(token) under the filtered sampling distribution (0 for greedy). */
  samplingLogprobs: number[];
  finishReason: FinishReason;
  /** Decoded text when `detokenize` was given. */
  text?: string;
  /** How the prompt's K/V was obtained (prefilled, kept from an earlier call, copied). */
  promptReuse?: PromptReuse;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Called for every generated token as soon as its step is read back. */
  onToken?: (sequence: number, id: number, logprob: number) => void;
  /** Turns generated ids into text, for stop strings and `text`. */
  detokenize?: (ids: number[]) => string;
  /** Reuse cached prompt prefixes (default true); false prefills every prompt whole and empties the cache. */
  prefixCache?: boolean;
  /**
   * Adds this call's seconds in prefill (every prompt token, with the first sampled tokens) and in
   * decode. Given, the GPU is drained once between the phases so neither is billed the other's work.
   */
  timing?: GenerateTiming;
}

export interface GenerateTiming {
  prefillSeconds: number;
  decodeSeconds: number;
}

function rowParams(sampling: SamplingOptions, sequence: number, position: number): SamplingRowParams {
  const seed = rowSeed((sampling.seed ?? 0) >>> 0, sequence);
  if (sampling.greedy) return { temperature: 0, topK: 0, topP: 1, seed, counter: position };
  return { temperature: sampling.temperature ?? 1, topK: sampling.topK ?? 0, topP: sampling.topP ?? 1, seed, counter: position };
}

interface SequenceState {
  request: GenerationRequest;
  out: GeneratedSequence;
  /** KV-cache slot. */
  slot: number;
  /** Tokens in the cache so far (prompt + generated, minus the pending last token). */
  length: number;
  done: boolean;
  stopIds: Set<number>;
}

export async function generate(
  engine: QwenEngine,
  requests: readonly GenerationRequest[],
  sampling: SamplingOptions = {},
  options: GenerateOptions = {},
): Promise<GeneratedSequence[]> {
  const { maxBatch, maxContext, maxStepTokens } = engine.options;
  if (requests.length === 0) return [];
  if (requests.length > maxBatch) throw new EngineError('bad-input', `${requests.length} sequences requested, the engine decodes at most ${maxBatch} at once`);
  const states: SequenceState[] = requests.map((request, i) => {
    const where = `sequence ${i}`;
    if (request.promptIds.length === 0) throw new EngineError('bad-input', `${where}: the prompt is empty`);
    engine.checkIds(request.promptIds, `${where} prompt`);
    if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1)
      throw new EngineError('bad-input', `${where}: maxNewTokens must be a positive integer, got ${request.maxNewTokens}`);
    if (request.promptIds.length + request.maxNewTokens > maxContext) {
      throw new EngineError(
        'context-overflow',
        `${where}: the prompt has ${request.promptIds.length} tokens and asks for ${request.maxNewTokens} more, but the context holds ${maxContext}; shorten the prompt or lower max new tokens`,
      );
    }
    if (request.stopStrings?.length && !options.detokenize) throw new EngineError('bad-input', `${where}: stop strings need a detokenize function`);
    return {
      request,
      out: { ids: [], logprobs: [], samplingLogprobs: [], finishReason: 'length' },
      slot: i,
      length: 0,
      done: false,
      stopIds: new Set(request.stopIds ?? engine.config.eosTokenIds),
    };
  });

  const table = engine.prefixCache;
  const share = options.prefixCache !== false;
  const key = share ? await engine.weightsKey() : '';
  const prompts = requests.map((r) => r.promptIds);
  if (!share) table.clear();
  const plan: PrefillPlan = share
    ? table.plan(prompts, key)
    : {
        slots: requests.map((_, i) => i),
        reused: requests.map(() => 0),
        source: requests.map(() => ({ kind: 'none' })),
        rounds: requests.map(() => 0),
      };
  states.forEach((st, i) => {
    st.slot = plan.slots[i];
    st.length = plan.reused[i];
    const reused = plan.reused[i];
    const kind = plan.source[i].kind;
    st.out.promptReuse = { prefilled: 0, kept: kind === 'kept' ? reused : 0, copied: 0 };
    if (share) table.claim(st.slot, kind === 'kept' ? prompts[i].slice(0, reused) : [], key);
  });
  const wrote = (seq: number, pos: number, id: number) => {
    if (share) table.wrote(states[seq].slot, pos, id);
  };

  const started = performance.now();
  let decodeStarted = 0;
  try {
    // Prefill in rounds (one unless requests copy a prefix another prefills first): copy K/V into
    // the round's slots, then pack its prompt tokens into steps of up to maxStepTokens; a step's
    // logit rows are the tokens that end a prompt, and their samples are the first generated tokens.
    const lastRound = Math.max(...plan.rounds);
    for (let round = 0; round <= lastRound && !options.signal?.aborted; round++) {
      const members = states.map((_, seq) => seq).filter((seq) => plan.rounds[seq] === round);
      const copies = members.flatMap((seq) => {
        const source = plan.source[seq];
        return source.kind === 'copy' ? [{ seq, from: states[source.from].slot }] : [];
      });
      if (copies.length > 0) {
        const encoder = engine.ctx.device.createCommandEncoder({ label: 'prefix copy' });
        const pass = encoder.beginComputePass({ label: 'prefix copy' });
        for (const c of copies)
          encodeKvCopy(engine.ctx, pass, { cache: engine.cache, fromSlot: c.from, toSlot: states[c.seq].slot, length: plan.reused[c.seq] });
        pass.end();
        engine.ctx.device.queue.submit([encoder.finish()]);
        for (const c of copies) {
          states[c.seq].out.promptReuse!.copied = plan.reused[c.seq];
          if (share) table.claim(states[c.seq].slot, prompts[c.seq].slice(0, plan.reused[c.seq]), key);
        }
      }
      const pending: { seq: number; pos: number; id: number }[] = [];
      for (const seq of members) {
        const ids = prompts[seq];
        for (let pos = plan.reused[seq]; pos < ids.length; pos++) pending.push({ seq, pos, id: ids[pos] });
      }
      for (let start = 0; start < pending.length; start += maxStepTokens) {
        if (options.signal?.aborted) break; // the decode loop below marks every sequence cancelled
        const chunk = pending.slice(start, start + maxStepTokens);
        const lastRows: number[] = [];
        chunk.forEach((t, row) => {
          if (t.pos === prompts[t.seq].length - 1) lastRows.push(row);
        });
        const finishing = lastRows.map((row) => chunk[row]);
        await runStep(
          engine,
          chunk.map((t) => t.id),
          chunk.map((t) => states[t.seq].slot),
          chunk.map((t) => t.pos),
          lastRows,
          finishing.map((t) => rowParams(sampling, t.seq, t.pos + 1)),
          finishing.map((t) => t.seq),
          states,
          options,
        );
        for (const t of chunk) {
          states[t.seq].length = t.pos + 1;
          states[t.seq].out.promptReuse!.prefilled++;
          wrote(t.seq, t.pos, t.id);
        }
      }
    }

    if (options.timing) {
      await engine.ctx.device.queue.onSubmittedWorkDone();
      decodeStarted = performance.now();
      options.timing.prefillSeconds += (decodeStarted - started) / 1000;
    }
    // Decode: every unfinished sequence feeds its last token, one position further.
    for (;;) {
      if (options.signal?.aborted) {
        for (const st of states)
          if (!st.done) {
            st.done = true;
            st.out.finishReason = 'cancelled';
          }
      }
      // A sequence whose prompt never finished prefilling (cancelled) has no token to feed.
      const active = states.map((st, seq) => ({ st, seq })).filter(({ st }) => !st.done);
      if (active.length === 0) break;
      const ids = active.map(({ st }) => st.out.ids[st.out.ids.length - 1]);
      const positions = active.map(({ st }) => st.length);
      await runStep(
        engine,
        ids,
        active.map(({ st }) => st.slot),
        positions,
        active.map((_, row) => row),
        active.map(({ seq }, row) => rowParams(sampling, seq, positions[row] + 1)),
        active.map(({ seq }) => seq),
        states,
        options,
      );
      active.forEach(({ st, seq }, row) => {
        st.length++;
        wrote(seq, positions[row], ids[row]);
      });
    }
  } catch (e) {
    // A failed step may or may not have written its slots: trust none of them.
    for (const st of states) table.forget(st.slot);
    throw e;
  }

  if (options.timing && decodeStarted) options.timing.decodeSeconds += (performance.now() - decodeStarted) / 1000;
  for (const st of states) table.count(st.out.promptReuse!);
  for (const st of states) if (options.detokenize && st.out.text === undefined) st.out.text = options.detokenize(st.out.ids);
  return states.map((st) => st.out);
}

async function runStep(
  engine: QwenEngine,
  ids: number[],
  slots: number[],
  positions: number[],
  logitRows: number[],
  params: SamplingRowParams[],
  rowSequences: number[],
  states: SequenceState[],
  options: GenerateOptions,
) {
  engine.writeStep(ids, slots, positions, logitRows);
  const rows = logitRows.length;
  const a = engine.acts;
  if (rows > 0) engine.ctx.write(a.samplingParams, packSamplingParams(params));
  engine.runStep({ tokens: ids.length, logitRows: rows, maxKeys: Math.max(...positions) + 1 }, (encoder) => {
    if (rows === 0) return;
    const pass = encoder.beginComputePass({ label: 'sample' });
    encodeSample(engine.ctx, pass, {
      logits: a.logits,
      params: a.samplingParams,
      tokens: a.sampledTokens,
      logprobs: a.sampledLogprobs,
      rows,
      vocab: engine.config.vocabSize,
    });
    pass.end();
    encoder.copyBufferToBuffer(a.sampledTokens, 0, a.sampleReadback, 0, rows * 4);
    encoder.copyBufferToBuffer(a.sampledLogprobs, 0, a.sampleReadback, a.maxLogitRows * 4, rows * 8);
  });
  if (rows === 0) return;
  await a.sampleReadback.mapAsync(GPUMapMode.READ);
  const mapped = a.sampleReadback.getMappedRange();
  const tokens = new Uint32Array(mapped.slice(0, rows * 4));
  const logprobs = new Float32Array(mapped.slice(a.maxLogitRows * 4, a.maxLogitRows * 4 + rows * 8));
  a.sampleReadback.unmap();
  for (let r = 0; r < rows; r++) {
    const seq = rowSequences[r];
    const st = states[seq];
    const id = tokens[r];
    st.out.ids.push(id);
    st.out.logprobs.push(logprobs[2 * r]);
    st.out.samplingLogprobs.push(logprobs[2 * r + 1]);
    options.onToken?.(seq, id, logprobs[2 * r]);
    finishIfDone(st, options);
  }
}

function finishIfDone(st: SequenceState, options: GenerateOptions) {
  const { out, request } = st;
  const last = out.ids[out.ids.length - 1];
  if (st.stopIds.has(last)) {
    st.done = true;
    out.finishReason = 'eos';
  } else if (request.stopStrings?.length && options.detokenize) {
    const text = options.detokenize(out.ids);
    const hit = request.stopStrings.map((stop) => text.indexOf(stop)).filter((i) => i >= 0);
    if (hit.length > 0) {
      st.done = true;
      out.finishReason = 'stop-string';
      out.text = text.slice(0, Math.min(...hit));
    }
  }
  if (!st.done && out.ids.length >= request.maxNewTokens) st.done = true; // finishReason stays 'length'
}
