// Prompt-prefix reuse in generate(): a group sharing a prompt prefills it once, a multi-turn
// request extending what its slot holds prefills only the delta, and nothing computed under other
// weights is reused. Every case is compared with the unshared path (prefixCache: false) on a
// fresh cache: the same tokens and log-probs, bit for bit, and the prefill counts are checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import { generate, type GeneratedSequence, type GenerationRequest, type SamplingOptions } from '../../../src/engine/generate';
import type { PromptReuse } from '../../../src/engine/prefix-cache';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import { LORA_TARGETS } from '../../../src/engine/ops/lora-targets';
import { getTestDevice } from '../../helpers/gpu';
import { loadFixtureModel, loadReference } from '../../helpers/fixture-models';

const SEEDED: SamplingOptions = { temperature: 0.9, topK: 40, topP: 0.95, seed: 4242 };
const GREEDY: SamplingOptions = { greedy: true };

/** The prompt reuse of a call's sequences, summed. */
function sumPromptReuse(sequences: readonly GeneratedSequence[]): PromptReuse {
  const total: PromptReuse = { prefilled: 0, kept: 0, copied: 0 };
  for (const { promptReuse: r } of sequences) {
    if (!r) continue;
    total.prefilled += r.prefilled;
    total.kept += r.kept;
    total.copied += r.copied;
  }
  return total;
}

/** Deterministic token ids of an odd length, from a base offset. */
function ids(length: number, base: number, vocab: number): number[] {
  return Array.from({ length }, (_, i) => (base + i * 37 + ((i * i) % 11)) % vocab);
}

/**
 * Bit-identical: with steps of at most 8 tokens every matmul runs the GEMV kernel, whose result
 * for a row does not depend on the step's other rows, and a copied K/V is the same bits. (Steps
 * over 8 tokens switch to the tiled kernel, which rounds differently, as batching already does.)
 */
function expectSameOutputs(shared: GeneratedSequence[], unshared: GeneratedSequence[]) {
  const strip = (s: GeneratedSequence) => ({ ids: s.ids, logprobs: s.logprobs, samplingLogprobs: s.samplingLogprobs, finishReason: s.finishReason });
  expect(shared.map(strip)).toEqual(unshared.map(strip));
}

/** One context for both models: kernels of equal shapes compile once (SwiftShader compiles slowly). */
let sharedCtx: GpuContext | undefined;
async function context(): Promise<GpuContext> {
  sharedCtx ??= new GpuContext((await getTestDevice()).device);
  return sharedCtx;
}
/** The first test of each model compiles most kernels: generous under a loaded CI machine. */
const COMPILING_TEST_MS = 300_000;

describe.each(['qwen2-tiny-gqa', 'qwen3-tiny'])('prefix reuse on %s', (name) => {
  let engine: QwenEngine;
  let V: number;
  const ref = loadReference(name);
  /** The unshared path: empties the cache and prefills every prompt whole. */
  const unshared = (requests: GenerationRequest[], sampling: SamplingOptions) => generate(engine, requests, sampling, { prefixCache: false });

  beforeAll(async () => {
    const ctx = await context();
    const model = await loadFixtureModel(name);
    // maxStepTokens 8: prompts of 15+ tokens prefill over several steps of odd sizes.
    engine = await QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext: 80, maxBatch: 4, maxStepTokens: 8 });
    V = model.config.vocabSize;
  });
  afterAll(() => engine?.destroy());

  it(
    'a group of 4 sharing a 23-token prompt prefills it once (greedy and seeded), batched with another prompt',
    async () => {
      const prompt = ids(23, 5, V);
      const group = Array.from({ length: 4 }, () => ({ promptIds: prompt, maxNewTokens: 7, stopIds: [] }));
      for (const sampling of [GREEDY, SEEDED]) {
        const off = await unshared(group, sampling);
        const on = await generate(engine, group, sampling);
        expectSameOutputs(on, off);
        // The leader prefills 23 tokens, each other member copies 22 and prefills the last one.
        expect(sumPromptReuse(on)).toEqual({ prefilled: 23 + 3, kept: 0, copied: 3 * 22 });
        expect(sumPromptReuse(off)).toEqual({ prefilled: 4 * 23, kept: 0, copied: 0 });
        if (sampling === SEEDED) expect(new Set(on.map((s) => s.ids.join(','))).size).toBeGreaterThan(1);
      }
      // Two groups of 2 whose prompts share a 13-token prefix, then differ (different lengths).
      const a = ids(21, 9, V);
      const b = [...a.slice(0, 13), ...ids(6, 100, V)];
      const mixed = [a, b, a, b].map((promptIds, i) => ({ promptIds, maxNewTokens: 5 + i, stopIds: [] }));
      const off = await unshared(mixed, SEEDED);
      const on = await generate(engine, mixed, SEEDED);
      expectSameOutputs(on, off);
      // a: 21 prefilled; b: copies 13 from a, prefills 6; the second a copies 20; the second b copies 18.
      expect(sumPromptReuse(on)).toEqual({ prefilled: 21 + 6 + 1 + 1, kept: 0, copied: 13 + 20 + 18 });
    },
    COMPILING_TEST_MS,
  );

  it('a multi-turn request prefills only its delta, alone and in a batch of episodes', async () => {
    // Alone: turn 1, then turn 2 = turn-1 prompt + sampled ids + a 5-token delta.
    const first = { promptIds: ref.input_ids.concat(ids(8, 3, V)), maxNewTokens: 9, stopIds: [] };
    const [t1] = await generate(engine, [first], SEEDED);
    const second = { promptIds: [...first.promptIds, ...t1.ids, ...ids(5, 77, V)], maxNewTokens: 6, stopIds: [] };
    const [on] = await generate(engine, [second], SEEDED);
    // The slot holds the prompt and every sampled id but the last (it was never fed back).
    expect(on.promptReuse).toEqual({ prefilled: 1 + 5, kept: first.promptIds.length + t1.ids.length - 1, copied: 0 });
    const [off] = await unshared([second], SEEDED);
    expectSameOutputs([on], [off]);

    // Three episodes of one group: turn 1 shares the prompt, turn 2 extends each episode's own slot.
    const prompt = ids(17, 21, V);
    const turn1 = [0, 1, 2].map((i) => ({ promptIds: prompt, maxNewTokens: 4 + 2 * i, stopIds: [] }));
    const out1 = await generate(engine, turn1, SEEDED);
    // Episode order swapped in the second call: slots follow the ids, seeds follow the request index.
    const turn2 = [2, 0, 1].map((e) => ({ promptIds: [...prompt, ...out1[e].ids, ...ids(3 + e, 50 + e, V)], maxNewTokens: 5, stopIds: [] }));
    const out2 = await generate(engine, turn2, SEEDED);
    expect(out2.map((s) => s.promptReuse!.kept)).toEqual([2, 0, 1].map((e) => 17 + out1[e].ids.length - 1));
    expect(sumPromptReuse(out2).prefilled).toBe([2, 0, 1].reduce((n, e) => n + 1 + 3 + e, 0));
    expectSameOutputs(out2, await unshared(turn2, SEEDED));
  });

  it('keeps only what was written before a cancellation, and forgets slots engine.logits() overwrote', async () => {
    const prompt = ids(19, 8, V);
    const controller = new AbortController();
    let seen = 0;
    const [cut] = await generate(engine, [{ promptIds: prompt, maxNewTokens: 12, stopIds: [] }], GREEDY, {
      signal: controller.signal,
      onToken: () => {
        if (++seen === 3) controller.abort();
      },
    });
    expect(cut.finishReason).toBe('cancelled');
    const next = { promptIds: [...prompt, ...cut.ids, ...ids(4, 1, V)], maxNewTokens: 4, stopIds: [] };
    const [on] = await generate(engine, [next], GREEDY);
    expect(on.promptReuse!.kept).toBe(prompt.length + cut.ids.length - 1);
    const [again] = await generate(engine, [next], GREEDY);
    expect(again.promptReuse!.kept).toBe(next.promptIds.length - 1);
    expectSameOutputs([on, again], await unshared([next, next], GREEDY));
    await engine.logits([0, 1, 2, 3].map((k) => ids(9, 2 + k, V))); // overwrites every slot
    const [afterLogits] = await generate(engine, [next], GREEDY);
    expect(afterLogits.promptReuse!.kept).toBe(0);
    expectSameOutputs([afterLogits], [on]);
  });

  it(
    'reuses K/V only under the weights that computed it (adapter switch, adapter weights changed in place)',
    async () => {
      const adapter = new LoraAdapter(engine.ctx, engine.config, { rank: 4, alpha: 8, targets: LORA_TARGETS });
      const setB = (scale: number) => {
        adapter.initialise(3);
        for (const m of adapter.modules)
          engine.ctx.write(
            m.b,
            Float32Array.from({ length: m.outFeatures * m.rank }, (_, i) => scale * Math.sin(i * 0.7 + m.layer)),
          );
      };
      try {
        setB(0.5);
        const prompt = ids(15, 40, V);
        const request = { promptIds: prompt, maxNewTokens: 6, stopIds: [] };
        engine.setAdapter(adapter);
        const [base1] = await generate(engine, [request], SEEDED);
        const extend = { promptIds: [...prompt, ...base1.ids, 5, 6, 7], maxNewTokens: 5, stopIds: [] };

        // Base model: the adapter's K/V must not be used.
        engine.setAdapter(null);
        const [baseOn] = await generate(engine, [extend], SEEDED);
        expect(baseOn.promptReuse!.kept).toBe(0);
        expectSameOutputs([baseOn], await unshared([extend], SEEDED));

        // The adapter again, same weights (the unshared run emptied the cache).
        engine.setAdapter(adapter);
        const [back] = await generate(engine, [request], SEEDED);
        expect(back.ids).toEqual(base1.ids);
        const [kept] = await generate(engine, [extend], SEEDED);
        expect(kept.promptReuse!.kept).toBe(prompt.length + base1.ids.length - 1);
        const [keptOff] = await unshared([extend], SEEDED);
        expectSameOutputs([kept], [keptOff]);
        await generate(engine, [request], SEEDED); // the slot holds the adapter's K/V again

        // New weights written in place while the adapter stays set (as an optimizer step does): its
        // fingerprint changes, so nothing computed under the old weights is kept.
        setB(-0.8);
        const [fresh] = await generate(engine, [extend], SEEDED);
        expect(fresh.promptReuse!.kept).toBe(0);
        const [freshOff] = await unshared([extend], SEEDED);
        expectSameOutputs([fresh], [freshOff]);
        expect(freshOff.logprobs).not.toEqual(keptOff.logprobs);
      } finally {
        engine.setAdapter(null);
        adapter.destroy();
      }
    },
    COMPILING_TEST_MS,
  );
});
