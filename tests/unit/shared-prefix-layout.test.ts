// CPU side of shared-prefix training: where tokens sit in a packed row, which row predicts which
// token, how a step's samples become micro-batches, and the bench's sandbox episode scripts.
import { describe, expect, it } from 'vitest';
import { layoutBatch, predictionRow, rowTokens, scoredRanges } from '../../src/training/model/batch-layout';
import { planMicroBatches, sharedPrefixLength, type PolicySample } from '../../src/training/grpo/policy-pass';
import { costSplit, SPLIT_SHAPES, uniqueTokens } from '../../src/training/bench/sandbox-bench';
import { perTurnSequences, sandboxEpisodeScripts, scriptParts, ScriptedEpisodeEnvironment } from '../../src/training/bench/sandbox-episodes';
import { parseModelConfig } from '../../src/hf-io/config';
import { MODEL_SHAPES } from '../../models/shapes';

const options = { maxSeqLen: 32, maxPosition: 64, vocabSize: 100, bucket: 16 };

describe('batch layout', () => {
  it('packs [prefix | rest 1 | rest 2] with positions continuing from the prefix and per-sequence prediction rows', () => {
    const a = [1, 2, 3, 10, 11];
    const b = [1, 2, 3, 20, 21, 22];
    const layout = layoutBatch(
      [
        {
          prefix: 3,
          sequences: [
            { ids: a, scoreFrom: 4 },
            { ids: b, scoreFrom: 4 },
          ],
        },
      ],
      options,
    );
    expect(layout.seqLen).toBe(16);
    expect([...layout.ids.subarray(0, 8)]).toEqual([1, 2, 3, 10, 11, 20, 21, 22]);
    expect([...layout.positions.subarray(0, 8)]).toEqual([0, 1, 2, 3, 4, 3, 4, 5]);
    // Row 3 (token 10) predicts 11; row 5 (token 20) predicts 21; rest ends predict nothing.
    expect([...layout.targets.subarray(0, 8)]).toEqual([2, 3, 10, 11, 0, 21, 22, 0]);
    expect(predictionRow(layout, 0, 4)).toBe(3);
    expect(predictionRow(layout, 1, 4)).toBe(5);
    expect(predictionRow(layout, 1, 5)).toBe(6);
    expect(() => predictionRow(layout, 1, 3)).toThrow(/shared prefix row/);
    expect(scoredRanges(layout)).toEqual([
      { start: 3, count: 1 },
      { start: 5, count: 2 },
    ]);
    expect(layout.tokens).toBe(8);
    expect(layout.unpackedTokens).toBe(11);
    expect(rowTokens({ prefix: 3, sequences: [{ ids: a }, { ids: b }] })).toBe(8);
    expect(layout.segments).not.toBeNull();
  });

  it('the plain layout has no segment table and row b·T + t − 1 predicts token t', () => {
    const layout = layoutBatch(
      [
        { prefix: 0, sequences: [{ ids: [5, 6, 7] }] },
        { prefix: 0, sequences: [{ ids: [8, 9] }] },
      ],
      options,
    );
    expect(layout.segments).toBeNull();
    expect(predictionRow(layout, 1, 1)).toBe(16);
    expect(scoredRanges(layout)).toEqual([
      { start: 0, count: 2 },
      { start: 16, count: 1 },
    ]);
  });

  it('refuses a wrong prefix, a score inside the shared prefix, and rows over the plan, by name', () => {
    expect(() =>
      layoutBatch(
        [
          {
            prefix: 2,
            sequences: [
              { ids: [1, 2, 3], scoreFrom: 3 },
              { ids: [1, 4, 5], scoreFrom: 3 },
            ],
          },
        ],
        options,
      ),
    ).toThrow(/sequence 1: token 1 differs from the row's shared prefix/);
    expect(() =>
      layoutBatch(
        [
          {
            prefix: 2,
            sequences: [
              { ids: [1, 2, 3], scoreFrom: 2 },
              { ids: [1, 2, 5], scoreFrom: 3 },
            ],
          },
        ],
        options,
      ),
    ).toThrow(/scoreFrom 2 must be ≥ prefix \+ 1 = 3/);
    expect(() => layoutBatch([{ prefix: 0, sequences: [{ ids: Array(33).fill(1) }] }], options)).toThrow(/holds 33 tokens, the plan allows 32/);
    expect(() => layoutBatch([{ prefix: 0, sequences: [{ ids: [1, 200] }] }], options)).toThrow(/token id 200 is outside the vocabulary/);
    expect(() => layoutBatch([], options)).toThrow(/needs at least one row/);
    expect(() => layoutBatch([{ prefix: 0, sequences: [] }], options)).toThrow(/every row at least one sequence/);
  });
});

describe('micro-batch planning', () => {
  const sample = (ids: number[], positions: number[], group: number): PolicySample => ({ ids, positions, advantage: 1, group });
  const prompt = [1, 2, 3, 4, 5];
  const samples = [sample([...prompt, 6, 7], [5, 6], 0), sample([...prompt, 8], [5], 0), sample([...prompt, 9, 9, 9], [5, 7], 0), sample([40, 41, 42], [2], 1)];

  it('ends the shared prefix one token before the earliest sampled token', () => {
    expect(sharedPrefixLength(samples.slice(0, 3))).toBe(4);
    expect(sharedPrefixLength([sample([1, 2, 3, 4], [3], 0), sample([1, 2, 9, 4], [3], 0)])).toBe(2);
  });

  it('packs each group into rows within the budget (the prefix again in each row); unshared keeps microBatch rows', () => {
    const shared = planMicroBatches(samples, { share: true, microBatch: 2, rowTokens: 10 });
    expect(shared.map((b) => b.rows.map((r) => [r.prefix, r.sequences.length]))).toEqual([[[4, 2]], [[0, 1]], [[0, 1]]]);
    const plain = planMicroBatches(samples, { share: false, microBatch: 2, rowTokens: 10 });
    expect(plain.map((b) => b.rows.length)).toEqual([2, 2]);
    expect(() => planMicroBatches([sample(Array(11).fill(1), [10], 0)], { share: true, microBatch: 1, rowTokens: 10 })).toThrow(
      /does not fit a training row of 10/,
    );
  });
});

describe('sandbox bench episodes', () => {
  it('split shapes cost like Qwen2.5-0.5B between layers and LM head (~2.6 : 1)', () => {
    const qwen = costSplit(parseModelConfig(MODEL_SHAPES['qwen2.5-0.5b'], 'q'));
    expect(qwen).toBeGreaterThan(2.5);
    expect(qwen).toBeLessThan(2.7);
    for (const [name, shape] of Object.entries(SPLIT_SHAPES)) expect(Math.abs(costSplit(parseModelConfig(shape, name)) / qwen - 1), name).toBeLessThan(0.05);
  });

  it('test-split scripts are multi-turn Qwen2.5 transcripts; the scripted environment replays them at their real lengths', async () => {
    const scripts = await sandboxEpisodeScripts({ count: 2 });
    for (const s of scripts) {
      const parts = scriptParts(s.sequence);
      expect(parts.filter((p) => p.sampled).length).toBeGreaterThanOrEqual(2);
      expect(parts[0].sampled).toBe(false);
      expect(parts[0].ids.length).toBeGreaterThan(400); // system prompt + tool schemas
    }
    const env = new ScriptedEpisodeEnvironment(scripts, 97);
    let calls = 0;
    const rollouts = await env.collect({
      step: 0,
      prompts: 2,
      groupSize: 3,
      seed: 0,
      generate: async (requests) => {
        calls++;
        return requests.map((r, i) => ({
          ids: Array.from({ length: r.maxNewTokens }, (_, k) => (k * 7 + i + calls) % 97),
          logprobs: [],
          samplingLogprobs: [],
          finishReason: 'length' as const,
        }));
      },
    });
    expect(rollouts).toHaveLength(6);
    rollouts.forEach((r, i) => {
      const script = scripts[Math.floor(i / 3)].sequence;
      expect(r.sequences[0].ids.length).toBe(script.ids.length);
      expect([...r.sequences[0].sampled]).toEqual([...script.sampled]);
      expect(r.sequences[0].ids.every((id) => id < 97)).toBe(true);
    });
    const unique = uniqueTokens(rollouts);
    const total = rollouts.reduce((n, r) => n + r.sequences[0].ids.length, 0);
    expect(unique.all).toBeLessThan(total);
  });

  it('the per-turn baseline trains each turn as its own sequence: the conversation up to it, only its tokens scored', () => {
    // prompt 3 | turn 2 | tool 2 | turn 1 | tool 1 | turn 3
    const sampled = Uint8Array.from([0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1]);
    const whole = { ids: Array.from(sampled, (_, i) => 100 + i), sampled };
    const turns = perTurnSequences(whole);
    expect(turns.map((t) => t.ids.length)).toEqual([5, 8, 12]);
    expect(turns.map((t) => [...t.sampled])).toEqual([
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    ]);
    turns.forEach((t) => expect(t.ids).toEqual(whole.ids.slice(0, t.ids.length)));
    // Every sampled token is scored exactly once across the turns.
    expect(turns.reduce((n, t) => n + t.sampled.reduce((a, b) => a + b, 0), 0)).toBe(sampled.reduce((a, b) => a + b, 0));
  });
});
