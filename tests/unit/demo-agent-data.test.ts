// The demo agent's training data (tools/demo-agent/make-data.ts): train-split episodes only,
// rendered exactly as the model policy prompts the model (each assistant turn's prompt is the
// codec's render of the conversation so far, and the turn follows it), loss only on the
// assistant's own text and <|im_end|>, and a teacher that is imperfect in the stated proportions.
import { describe, expect, it } from 'vitest';
import { TurnCodec } from '../../src/agent/codec';
import { loadBundledTokenizer } from '../../models/tokenizers/bundled';
import { makeExamples } from '../../tools/demo-agent/make-data';
import { drawFlaws, mixturePolicy, MIXTURE } from '../../tools/demo-agent/mixture-policy';
import { Episode, generateScenarios, parseTurn } from '../../src/sandbox/index';
import type { ToolSpec } from '../../src/hf-io/tokenizer';

describe('demo agent data', () => {
  it('renders train episodes as the codec prompts the model, loss on assistant turns only', async () => {
    const examples = await makeExamples(27, 0);
    const scenarios = generateScenarios({ split: 'train', count: 27, seed: 0 });
    const codec = new TurnCodec({ tokenizer: await loadBundledTokenizer('qwen2.5') });
    expect(examples.length).toBe(27);
    for (const [i, e] of examples.entries()) {
      expect(e.id).toBe(scenarios[i].id);
      expect(e.id.startsWith('train-')).toBe(true);
      // Replay the (deterministic) episode: each assistant turn's text must follow exactly the
      // prompt the codec renders for the conversation before it.
      const episode = new Episode(scenarios[i], mixturePolicy(0), { seed: 0 });
      const tools = episode.sandbox.schemas() as unknown as ToolSpec[];
      const { messages } = await episode.run();
      const turns = messages.flatMap((m, k) => (m.role === 'assistant' ? [k] : []));
      const trained = e.segments.flatMap((s, k) => (s.train ? [k] : []));
      expect(trained.length).toBe(turns.length);
      expect(e.turns).toBe(turns.length);
      trained.forEach((k, n) => {
        const before = e.segments
          .slice(0, k)
          .map((s) => s.text)
          .join('');
        expect(before).toBe(codec.renderText(messages.slice(0, turns[n]), tools));
        expect(e.segments[k].text).toBe(`${messages[turns[n]].content}<|im_end|>`);
        expect(parseTurn(messages[turns[n]].content).format.ok).toBe(true);
      });
    }
  });

  it('draws flaws per episode at the stated rates, only where they apply', () => {
    const scenarios = generateScenarios({ split: 'train', count: 900, seed: 0 });
    const counts: Record<string, [number, number]> = {};
    for (const s of scenarios) {
      const flaws = drawFlaws(s, 0);
      const u = s.cell[0],
        t = s.cell[3];
      const applies = { complyMalicious: u === 'M', followInjection: t === 'M', skipUserCheck: u === 'S', skipToolCheck: t === 'S', overRefuse: u !== 'M' };
      for (const [f, ok] of Object.entries(applies)) {
        if (!ok) {
          expect(flaws.has(f as keyof typeof MIXTURE)).toBe(false);
          continue;
        }
        counts[f] ??= [0, 0];
        counts[f][0] += flaws.has(f as keyof typeof MIXTURE) ? 1 : 0;
        counts[f][1] += 1;
      }
    }
    for (const [f, [hit, n]] of Object.entries(counts)) {
      const p = MIXTURE[f as keyof typeof MIXTURE];
      // 4 standard deviations of a binomial proportion.
      expect(Math.abs(hit / n - p), f).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });
});
