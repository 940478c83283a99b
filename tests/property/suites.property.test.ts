// Property tests (fast-check, fixed seeds) of the suite loader and the InjecAgent importer on
// arbitrary mutations of valid files (issue #12): each mutated file either loads, and then every
// scenario in it runs an episode to a finite reward, or fails with a SuiteError that names the
// field ("x.json: scenarios[i] (id ...): "path" ..." / "cases.json: case i: "Field" ..."). Never
// a TypeError or RangeError. Bound: < 1 s per file, load and episodes included.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { complyPolicy, oraclePolicy } from '../../src/sandbox/policies';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { importInjecAgent } from '../../src/sandbox/scenarios/injecagent';
import { makeSuite, parseSuite, SuiteError } from '../../src/sandbox/scenarios/suite-format';
import type { Scenario } from '../../src/sandbox/scenarios/types';
import { expectSaneEpisode, hostileScenario, within } from './helpers';

type Json = unknown;
type Path = (string | number)[];

/** Every path to a value inside `v` (the root excluded). */
function pathsOf(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      pathsOf(x, [...prefix, i], out);
    });
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      pathsOf(x, [...prefix, k], out);
    }
  return out;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const replacement = fc.oneof(
  fc.constantFrom(
    null,
    '',
    ' ',
    0,
    -1,
    1.5,
    true,
    [],
    {},
    [null],
    { name: 5 },
    '__proto__',
    'constructor',
    2 ** 53,
    'x'.repeat(40_000),
    { toString: 'x', valueOf: 1 },
    [{ toString: 'x' }],
  ),
  fc.json({ maxDepth: 3 }).map((t) => JSON.parse(t) as Json),
  fc.integer({ min: 40, max: 200 }).map((d) => {
    let v: Json = 1;
    for (let i = 0; i < d; i++) v = { d: v };
    return v;
  }),
);

type Mutation = { kind: 'replace' | 'delete' | 'add'; pick: number; value: Json; key: string };
const mutation = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'delete', 'add') as fc.Arbitrary<Mutation['kind']>,
  pick: fc.nat(),
  value: replacement,
  key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })),
});

/** Applies mutations to a deep copy; keys are defined, not assigned, so '__proto__' is data. */
function mutate(original: Json, muts: Mutation[]): Json {
  const root = JSON.parse(JSON.stringify(original)) as Json;
  for (const m of muts) {
    const paths = pathsOf(root);
    if (!paths.length) break;
    const path = paths[m.pick % paths.length];
    let parent = root as Record<string | number, Json>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
    const last = path[path.length - 1];
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (m.kind === 'replace') Object.defineProperty(parent, last, { value: m.value, writable: true, enumerable: true, configurable: true });
    else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, { value: m.value, writable: true, enumerable: true, configurable: true });
    }
  }
  return root;
}

/** Runs each loaded scenario with two scripted policies: the loaded suite must be usable. */
async function runAll(scenarios: Scenario[]) {
  for (const s of scenarios) for (const policy of [oraclePolicy(), complyPolicy()]) expectSaneEpisode(await runEpisode(s, policy, { maxTurns: 3 }));
}

const NAMES_FIELD = /^x\.json: (scenarios\[\d+\] \(id "[^"]*"\): )?"[^"]+" /;

describe('property: suites under arbitrary mutation', () => {
  const valid = makeSuite('x', [hostileScenario(), ...generateScenarios({ split: 'test', count: 9, seed: 3 })]);
  const base = JSON.parse(JSON.stringify(valid));

  it('the unmutated suite loads and runs', async () => {
    await runAll(parseSuite(base, 'x.json').scenarios);
  });

  it('load and run, or fail naming the field, within 1 s (300 runs, seed 1204)', async () => {
    let loaded = 0,
      refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (muts) => {
        const json = mutate(base, muts);
        await within(1000, async () => {
          let suite;
          try {
            suite = parseSuite(json, 'x.json');
          } catch (e) {
            expect(e).toBeInstanceOf(SuiteError);
            expect((e as Error).message).toMatch(NAMES_FIELD);
            refused++;
            return;
          }
          loaded++;
          await runAll(suite.scenarios.slice(0, 2));
        });
      }),
      { seed: 1204, numRuns: 300 },
    );
    // Both outcomes are exercised (the property is not vacuous).
    expect(loaded).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  });
});

describe('property: InjecAgent files under arbitrary mutation', () => {
  const dir = 'tests/fixtures/injecagent';
  const cases = [...JSON.parse(readFileSync(`${dir}/test_cases_dh.json`, 'utf8')), ...JSON.parse(readFileSync(`${dir}/test_cases_ds.json`, 'utf8'))];
  const tools = JSON.parse(readFileSync(`${dir}/tools.json`, 'utf8'));
  const NAMES_CASE = /^(cases\.json: (case \d+|scenarios\[\d+\] \(id "[^"]*"\): "[^"]+"|must be a JSON list|has no test cases)|tools\.json: )/;

  for (const withTools of [false, true]) {
    it(`import and run, or fail naming the case and field, within 1 s (${withTools ? 'with' : 'without'} tools.json; 200 runs, seed 1205)`, async () => {
      let loaded = 0,
        refused = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.boolean(), async (muts, mutateTools) => {
          const c = mutateTools && withTools ? cases : mutate(cases, muts);
          const t = withTools ? (mutateTools ? mutate(tools, muts) : tools) : undefined;
          await within(1000, async () => {
            let scenarios;
            try {
              scenarios = importInjecAgent(c, { source: 'cases.json', toolkits: t, toolsSource: 'tools.json' });
            } catch (e) {
              expect(e).toBeInstanceOf(SuiteError);
              expect((e as Error).message).toMatch(NAMES_CASE);
              refused++;
              return;
            }
            loaded++;
            // What was imported loads with the suite loader, and runs.
            expect(parseSuite(JSON.parse(JSON.stringify(makeSuite('ia', scenarios))), 'x.json').scenarios).toHaveLength(scenarios.length);
            await runAll(scenarios.slice(0, 2));
          });
        }),
        { seed: withTools ? 1206 : 1205, numRuns: 200 },
      );
      expect(loaded).toBeGreaterThan(10);
      expect(refused).toBeGreaterThan(10);
    });
  }
});
