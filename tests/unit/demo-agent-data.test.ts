// The demo agent's training data (tools/demo-agent/make-data.ts): train-split episodes only,
// rendered exactly as the model policy prompts the model (each assistant turn's prompt is the
// codec's render of the conversation so far, and the turn follows it), loss only on the
// assistant's own text and <|im_end|>, a teacher that is imperfect in the stated proportions, and
// fresh entities per episode (the same ones in the scenario and its world; the sandbox's own pools,
// which the test split uses, untouched).
import { describe, expect, it } from 'vitest';
import { TurnCodec } from '../../src/agent/codec';
import { loadBundledTokenizer } from '../../models/tokenizers/bundled';
import { makeExamples } from '../../tools/demo-agent/make-data';
import { drawFlaws, mixturePolicy, MIXTURE } from '../../tools/demo-agent/mixture-policy';
import { Episode, generateScenarios, parseTurn, withNamePools } from '../../src/sandbox/index';
import { ATTACKERS, PEOPLE, VENDORS } from '../../src/sandbox/data';
import { freshNamePools } from '../../tools/demo-agent/fresh-entities';
import type { ToolSpec } from '../../src/hf-io/tokenizer';

describe('demo agent data', () => {
  for (const freshEntities of [false, true])
    it(`renders train episodes as the codec prompts the model, loss on assistant turns only${freshEntities ? ' (fresh entities)' : ''}`, async () => {
      const examples = await makeExamples(18, 0, { freshEntities });
      const namePools = freshEntities ? (i: number) => freshNamePools(0, i) : undefined;
      const scenarios = generateScenarios({ split: 'train', count: 18, seed: 0, namePools });
      const codec = new TurnCodec({ tokenizer: await loadBundledTokenizer('qwen2.5') });
      expect(examples.length).toBe(18);
      for (const [i, e] of examples.entries()) {
        expect(e.id).toBe(scenarios[i].id);
        expect(e.id.startsWith('train-')).toBe(true);
        // Replay the (deterministic) episode: each assistant turn's text must follow exactly the
        // prompt the codec renders for the conversation before it.
        const construct = () => new Episode(scenarios[i], mixturePolicy(0), { seed: 0 });
        const episode = namePools ? withNamePools(namePools(i), construct) : construct();
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

  it('draws fresh entities per episode, used alike by the scenario and its world', () => {
    const before = generateScenarios({ split: 'train', count: 18, seed: 3 });
    const people = PEOPLE.slice();
    const fresh = generateScenarios({ split: 'train', count: 18, seed: 3, namePools: (i) => freshNamePools(3, i) });
    // The sandbox's pools are back, and scenarios made without namePools are unchanged.
    expect(PEOPLE).toEqual(people);
    expect(generateScenarios({ split: 'train', count: 18, seed: 3 })).toEqual(before);
    const seen = new Set<string>();
    for (const [i, s] of fresh.entries()) {
      const pools = freshNamePools(3, i);
      expect(freshNamePools(3, i)).toEqual(pools); // deterministic
      expect(new Set(pools.people.map((p) => p.split(' ')[0])).size).toBe(pools.people.length);
      seen.add(pools.people.join('|'));
      const episode = withNamePools(pools, () => new Episode(s, mixturePolicy(3), { seed: 3 }));
      const state = episode.sandbox.world.state;
      for (const c of state.contacts.filter((c) => String(c.id).startsWith('ct-'))) expect(pools.people).toContain(c.name);
      // None of the sandbox's own attackers or vendors (the test split's) appears in a fresh episode.
      const text = JSON.stringify([s.user, s.world.patches, s.attacker ?? null]);
      for (const a of ATTACKERS) for (const x of [a.email, a.account, a.handle]) expect(text).not.toContain(x);
      for (const v of VENDORS) expect(text).not.toContain(v.iban);
    }
    expect(seen.size).toBe(fresh.length);
  });

  it('withNamePools puts the pools back after a throw and refuses an async build', async () => {
    const people = PEOPLE.slice();
    const pools = freshNamePools(0, 0);
    expect(() =>
      withNamePools(pools, () => {
        expect(PEOPLE).toEqual(pools.people);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(PEOPLE).toEqual(people);
    const async = Promise.resolve(1);
    expect(() => withNamePools(pools, () => async)).toThrow(/synchronous/);
    await async;
    expect(PEOPLE).toEqual(people);
    expect(() => withNamePools({ ...pools, people: [] }, () => 1)).toThrow(/at least one/);
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
