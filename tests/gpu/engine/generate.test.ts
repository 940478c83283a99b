// Batched generation against Hugging Face greedy continuations, and the engine's own invariants:
// KV-cache decode equals full recompute, batched equals one-by-one, seeded sampling is reproducible.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { EngineError, QwenEngine } from '../../../src/engine/engine';
import { generate } from '../../../src/engine/generate';
import { gatherLogProbCpu } from '../../../src/engine/ops/softmax';
import { suggestAttentionSplits } from '../../../src/engine/ops/attention';
import { getTestDevice } from '../../helpers/gpu';
import { loadFixtureModel, loadReference } from '../../helpers/fixture-models';

async function engineFor(name: string, maxContext = 48) {
  const ctx = new GpuContext((await getTestDevice()).device);
  const model = await loadFixtureModel(name);
  return QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext, maxBatch: 3, maxStepTokens: 16 });
}

describe.each(['qwen2-tiny-gqa', 'qwen3-tiny'])('generation on %s', (name) => {
  let engine: QwenEngine;
  const ref = loadReference(name);
  beforeAll(async () => {
    engine = await engineFor(name);
  });
  afterAll(() => engine?.destroy());

  it('greedy continuation is identical to Hugging Face generate()', async () => {
    const timing = { prefillSeconds: 0, decodeSeconds: 0 };
    const started = performance.now();
    const [out] = await generate(engine, [{ promptIds: ref.greedy.prompt_ids, maxNewTokens: 16, stopIds: [] }], { greedy: true }, { timing });
    const wall = (performance.now() - started) / 1000;
    expect(out.ids).toEqual(ref.greedy.new_ids);
    expect(out.finishReason).toBe('length');
    // The phase split (what GRPO's prefill/decode metrics report): both phases ran, within the call's wall time.
    expect(timing.prefillSeconds).toBeGreaterThan(0);
    expect(timing.decodeSeconds).toBeGreaterThan(0);
    expect(timing.prefillSeconds + timing.decodeSeconds).toBeLessThanOrEqual(wall + 1e-3);
  });

  it('KV-cache decode log-probs equal a full recompute over prompt + generated tokens', async () => {
    const [out] = await generate(engine, [{ promptIds: ref.input_ids, maxNewTokens: 8, stopIds: [] }], { temperature: 1, seed: 7 });
    const all = [...ref.input_ids, ...out.ids];
    const [logits] = await engine.logits([all]);
    const V = engine.config.vocabSize;
    const rows = logits.subarray((ref.input_ids.length - 1) * V, (all.length - 1) * V);
    const expected = gatherLogProbCpu(rows, V, out.ids);
    // Same kernels, different step shapes (1 token vs many): f32 reduction order differs slightly.
    for (let i = 0; i < out.ids.length; i++) expect(Math.abs(out.logprobs[i] - expected[i])).toBeLessThan(1e-4);
  });

  // A 230-token prompt: decode steps (1 token × 4 heads) split each head's 230+ keys over 2
  // workgroups (split-K) and merge them, while the recompute's prefill steps run unsplit.
  it('split-K decode over a long context equals a full recompute', async () => {
    const long = await engineFor(name, 250);
    try {
      expect(suggestAttentionSplits(1, long.config.numHeads, 231)).toBe(2);
      const prompt = Array.from({ length: 230 }, (_, i) => ref.input_ids[i % ref.input_ids.length]);
      const [out] = await generate(long, [{ promptIds: prompt, maxNewTokens: 6, stopIds: [] }], { temperature: 1, seed: 11 });
      const all = [...prompt, ...out.ids];
      const [logits] = await long.logits([all]);
      const V = long.config.vocabSize;
      const expected = gatherLogProbCpu(logits.subarray((prompt.length - 1) * V, (all.length - 1) * V), V, out.ids);
      for (let i = 0; i < out.ids.length; i++) expect(Math.abs(out.logprobs[i] - expected[i])).toBeLessThan(1e-4);
    } finally {
      long.destroy();
    }
  });

  it('batched decode of sequences with different lengths equals one-by-one (greedy and seeded sampling)', async () => {
    const requests = [
      { promptIds: ref.input_ids, maxNewTokens: 6, stopIds: [] },
      { promptIds: ref.second_row.input_ids, maxNewTokens: 9, stopIds: [] },
      { promptIds: ref.input_ids.slice(0, 3), maxNewTokens: 4, stopIds: [] },
    ];
    for (const sampling of [{ greedy: true }, { temperature: 0.9, topK: 40, topP: 0.9, seed: 1234 }]) {
      const batched = await generate(engine, requests, sampling);
      for (let i = 0; i < requests.length; i++) {
        // Alone, but in the same slot index so the per-sequence seed matches: pad with the others done.
        const alone = await generate(
          engine,
          requests.map((r, j) => (j === i ? r : { ...r, maxNewTokens: 1 })),
          sampling,
        );
        expect(batched[i].ids).toEqual(alone[i].ids);
        expect(batched[i].ids.length).toBe(requests[i].maxNewTokens);
      }
    }
  });

  it('stops at a stop id and includes it', async () => {
    const stop = ref.greedy.new_ids[3];
    const [out] = await generate(engine, [{ promptIds: ref.greedy.prompt_ids, maxNewTokens: 16, stopIds: [stop] }], { greedy: true });
    expect(out.ids[out.ids.length - 1]).toBe(stop);
    expect(out.ids).toEqual(ref.greedy.new_ids.slice(0, out.ids.length));
    expect(out.finishReason).toBe('eos');
  });
});

describe('generation errors and control', () => {
  let engine: QwenEngine;
  beforeAll(async () => {
    engine = await engineFor('qwen2-tiny-tied', 20);
  });
  afterAll(() => engine?.destroy());

  it('rejects a prompt that does not fit the context, naming the numbers', async () => {
    const err = await generate(engine, [{ promptIds: new Array(18).fill(1), maxNewTokens: 5 }]).catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('context-overflow');
    expect(err.message).toMatch(/18 tokens and asks for 5 more, but the context holds 20/);
  });

  it('rejects token ids outside the vocabulary', async () => {
    await expect(generate(engine, [{ promptIds: [1, 99999], maxNewTokens: 2 }])).rejects.toThrow(/outside the vocabulary/);
  });

  it('cancellation mid-generation returns the tokens so far, and the engine stays usable', async () => {
    const controller = new AbortController();
    const [out] = await generate(
      engine,
      [{ promptIds: [1, 2, 3], maxNewTokens: 15, stopIds: [] }],
      { greedy: true },
      {
        signal: controller.signal,
        onToken: (_seq, _id) => {
          controller.abort();
        },
      },
    );
    expect(out.finishReason).toBe('cancelled');
    expect(out.ids.length).toBeGreaterThanOrEqual(1);
    expect(out.ids.length).toBeLessThan(15);
    const [again] = await generate(engine, [{ promptIds: [1, 2, 3], maxNewTokens: 4, stopIds: [] }], { greedy: true });
    expect(again.ids.length).toBe(4);
    expect(again.ids.slice(0, out.ids.length)).toEqual(out.ids);
  });
});
