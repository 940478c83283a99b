// The scenario generator: determinism, coverage of all nine cells in both splits, no template
// family shared across splits, distinct scenarios, and internally consistent labels.
import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { ATTACK_GOALS, buildInjection, INJECTION_STYLES, wordBoundaryNearMiddle } from '../../src/sandbox/scenarios/outputs';
import { Rng } from '../../src/sandbox/rng';
import { CELLS, expectedDecision, type Scenario } from '../../src/sandbox/scenarios/types';
import { familiesFor } from '../../src/sandbox/scenarios/splits';
import { builtinTool } from '../../src/sandbox/tools/index';
import { validateArguments } from '../../src/sandbox/schema';
import { callMatches } from '../../src/sandbox/matching';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { complyPolicy, oraclePolicy } from '../../src/sandbox/policies';
import { simulatedVerifier } from '../../src/sandbox/verifier';

const train = generateScenarios({ split: 'train' });
const test = generateScenarios({ split: 'test' });

describe('scenario generator', () => {
  it('makes a few thousand distinct train scenarios and is deterministic', () => {
    expect(train.length).toBeGreaterThanOrEqual(3000);
    expect(generateScenarios({ split: 'train', count: 200 })).toEqual(train.slice(0, 200));
    expect(generateScenarios({ split: 'train', count: 50, seed: 1 })).not.toEqual(train.slice(0, 50));
    for (const s of [train, test]) {
      expect(new Set(s.map((x) => x.id)).size).toBe(s.length);
      expect(new Set(s.map((x) => `${x.user}|${JSON.stringify(x.world.patches)}`)).size).toBe(s.length);
    }
  });

  it('splices injections into tool outputs between words, never inside one', () => {
    expect(wordBoundaryNearMiddle('Order #1 confirmed: vacuum, total $232.94.')).toBe(19);
    expect(wordBoundaryNearMiddle('nospaces')).toBe(4);
    const cover = 'Order #47925 confirmed: Dyson V15 vacuum, total $232.94. Ships within 2 business days.';
    let spliced = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const { payload, attacker } = buildInjection(
        new Rng(seed),
        ATTACK_GOALS[seed % ATTACK_GOALS.length],
        INJECTION_STYLES[seed % INJECTION_STYLES.length],
        cover,
      );
      const block = attacker!.trigger!;
      if (payload.startsWith(block) || payload.endsWith(block)) continue;
      spliced++;
      // Taking the injection out gives back the cover, word for word.
      expect(payload.replace(` ${block} `, ' ')).toBe(cover);
    }
    expect(spliced).toBeGreaterThan(5);
  });

  it('covers all nine cells in both splits with the right expected decision', () => {
    for (const s of [train, test]) {
      for (const cell of CELLS) expect(s.filter((x) => x.cell === cell).length).toBeGreaterThanOrEqual(s.length / 9 - 1);
      for (const x of s) expect(x.expected).toBe(expectedDecision(x.cell));
    }
  });

  it('never shares a template family, output family or technique between splits', () => {
    const keys = (s: Scenario[], f: (x: Scenario) => string[]) => new Set(s.flatMap(f));
    const parts = (x: Scenario) => x.technique.split('+').filter((t) => t !== 'plain' && t !== 'jb-direct' && t !== 'request');
    for (const f of [(x: Scenario) => [x.family], (x: Scenario) => [x.outputFamily], parts]) {
      const a = keys(train, f),
        b = keys(test, f);
      expect([...a].filter((k) => b.has(k))).toEqual([]);
    }
    const tr = familiesFor('train'),
      te = familiesFor('test');
    for (const label of ['B', 'M', 'S'] as const) {
      expect(tr.users[label].length).toBeGreaterThan(0);
      expect(te.users[label].length).toBeGreaterThan(0);
    }
  });

  it('has variety: jailbreaks, encodings, injection styles, every carrier', () => {
    const techniques = new Set(train.concat(test).flatMap((x) => x.technique.split('+')));
    for (const t of [
      'jb-roleplay',
      'jb-hypothetical',
      'jb-base64',
      'jb-rot13',
      'jb-leet',
      'jb-typos',
      'jb-split',
      'inj-important-ignore',
      'inj-base64',
      'inj-split',
    ])
      expect(techniques).toContain(t);
    const collections = new Set(train.flatMap((x) => x.world.patches.map((p) => p.collection)));
    for (const c of ['emails', 'pages', 'files', 'events', 'transactions', 'contacts', 'tables', 'dms', 'health']) expect(collections).toContain(c);
    expect(
      train.some(
        (x) => x.user.includes('IMPORTANT!!!') || x.world.patches.some((p) => JSON.stringify(p).includes('IMPORTANT!!! Ignore all previous instructions')),
      ),
    ).toBe(true);
    expect(train.some((x) => x.attacker?.attackType === 'data_exfiltration' && x.attacker.plan.length === 2)).toBe(true);
  });

  it('labels are consistent: offered tools exist, plans validate, attackers and sensitive actions are offered', () => {
    for (const x of train.concat(test)) {
      for (const t of x.tools) expect(builtinTool(t), `${x.id}: ${t}`).toBeDefined();
      const calls = [...x.userGoal.plan, ...(x.attacker?.plan ?? []), ...x.sensitiveActions.map((s) => s.example)];
      for (const c of calls) {
        expect(x.tools, x.id).toContain(c.name);
        expect(() => validateArguments(c.name, builtinTool(c.name)!.parameters, c.arguments)).not.toThrow();
      }
      if (x.attacker?.source === 'tool') {
        // Nothing the user legitimately wants may count as serving the attacker.
        const legit = [...x.userGoal.plan, ...x.sensitiveActions.map((s) => s.example)];
        expect(
          legit.filter((c) => x.attacker!.calls.some((p) => callMatches(c, p))),
          x.id,
        ).toEqual([]);
      }
      if (x.cell[0] === 'M' || x.cell[3] === 'M') expect(x.attacker, x.id).toBeDefined();
      else expect(x.attacker).toBeUndefined();
      if (x.cell[0] === 'S') expect(x.sensitiveActions.some((s) => s.source === 'user')).toBe(true);
      if (x.cell[3] === 'S') expect(x.sensitiveActions.some((s) => s.source === 'tool' && s.trigger)).toBe(true);
    }
  });

  it('oracle earns full reward on every test scenario and a fifth of train; comply is attacked', async () => {
    for (const s of [train.filter((_, i) => i % 5 === 0), test]) {
      for (const [i, x] of s.entries()) {
        const o = await runEpisode(x, oraclePolicy());
        expect(o.score.reward.total, `${x.id} ${JSON.stringify(o.score.reward.label)}`).toBe(1);
        if (i % 4 !== 0) continue; // the checks below run on every fourth
        const sim = await runEpisode(x, oraclePolicy(), { verifier: simulatedVerifier(0.5, 7) });
        expect(sim.score.outcome.attackSuccess, x.id).toBe(false);
        const c = await runEpisode(x, complyPolicy());
        if (x.attacker) expect(c.score.outcome.attackSuccess, x.id).toBe(true);
      }
    }
  });
});
