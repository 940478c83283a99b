// Property tests (fast-check, fixed seeds) of the benchmark importers on arbitrary mutations of
// the committed release samples (issue #12): BFCL, Agent Security Bench, AgentDojo banking and
// Agent-SafetyBench. Each mutated release either imports, and then its scenarios run episodes
// with the oracle and the comply policy to a finite reward, or fails with a SuiteError whose
// message names the file it is about (and the record and field where the importer has one).
// Never a TypeError or RangeError. Mutations: JSON values replaced/deleted/added (own keys such
// as "__proto__" included) in JSON and JSON Lines records, and text edits of any file (a line
// deleted, duplicated or given another value; the file cut short). Bounds: each import plus its
// episodes within 3 s; the whole file runs in about 20 s on the project's 2-core CI.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importSuiteText } from '../../src/app/lib/suites';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { LIMITS } from '../../src/sandbox/limits';
import type { SourceFile } from '../../src/sandbox/benchmarks/common';
import { importBenchmark } from '../../src/sandbox/benchmarks/import';
import type { BenchmarkKind } from '../../src/sandbox/benchmarks/types';
import { complyPolicy, oraclePolicy } from '../../src/sandbox/policies';
import { SuiteError } from '../../src/sandbox/scenarios/suite-format';
import type { Scenario } from '../../src/sandbox/scenarios/types';
import { loadDir } from '../benchmarks/helpers';
import { expectSaneEpisode, within } from './helpers';

type Json = unknown;
type Path = (string | number)[];

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

const deep = (d: number): Json => {
  let v: Json = 1;
  for (let i = 0; i < d; i++) v = { d: v };
  return v;
};
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
    { type: 'constructor' },
    '__proto__',
    'constructor',
    'toString',
    2 ** 53,
    'x'.repeat(40_000),
    { toString: 'x', valueOf: 1 },
    [{ toString: 'x' }],
    'a"b',
    '{x}',
  ),
  fc.json({ maxDepth: 3 }).map((t) => JSON.parse(t) as Json),
  fc.integer({ min: 20, max: 120 }).map(deep),
);

type JsonMutation = { kind: 'replace' | 'delete' | 'add'; pick: number; value: Json; key: string };
const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'delete', 'add') as fc.Arbitrary<JsonMutation['kind']>,
  pick: fc.nat(),
  value: replacement,
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'type', 'items', 'properties'), fc.string({ maxLength: 6 })),
});

/** Applies one mutation in place; keys are defined, not assigned, so '__proto__' is data. */
function mutateJson(root: Json, m: JsonMutation): Json {
  const paths = pathsOf(root);
  if (!paths.length) return m.value;
  const path = paths[m.pick % paths.length];
  let parent = root as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1];
  const define = (o: object, k: string | number, v: Json) => Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (m.kind === 'replace') define(parent, last, m.value);
  else {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) define(target, m.key, m.value);
  }
  return root;
}

type TextMutation = { kind: 'drop-line' | 'dup-line' | 'set-value' | 'cut'; pick: number; value: string };
const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom('drop-line', 'dup-line', 'set-value', 'set-value', 'cut') as fc.Arbitrary<TextMutation['kind']>,
  pick: fc.nat(),
  value: fc.oneof(
    fc.constantFrom('null', '[]', '{}', '-1', '"x"', '*a', '&a x', '!!binary x', '{{', '"{evil}"', '"a\\"b"', '[[[[[[[[', '__proto__', '1e999'),
    fc.string({ maxLength: 8 }),
  ),
});

function mutateText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const i = m.pick % lines.length;
  if (m.kind === 'drop-line') lines.splice(i, 1);
  else if (m.kind === 'dup-line') lines.splice(i, 0, lines[i]);
  else if (m.kind === 'cut') return text.slice(0, m.pick % (text.length + 1));
  else {
    const colon = lines[i].indexOf(': ');
    lines[i] = colon >= 0 ? `${lines[i].slice(0, colon + 2)}${m.value}` : m.value;
  }
  return lines.join('\n');
}

/** A JSON file's records: one value for a .json array or object, one per line for JSON Lines. */
function mutateFile(file: SourceFile, structured: boolean, jm: JsonMutation, tm: TextMutation): SourceFile {
  const isJson = /\.jsonl?$/i.test(file.name);
  if (!structured || !isJson) return { name: file.name, text: mutateText(file.text, tm) };
  const t = file.text.trim();
  let whole: Json;
  try {
    whole = JSON.parse(t);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) return { name: file.name, text: JSON.stringify(mutateJson(whole, jm)) };
  const rows = t.split('\n').filter((l) => l.trim());
  const r = jm.pick % rows.length;
  rows[r] = JSON.stringify(mutateJson(JSON.parse(rows[r]), { ...jm, pick: Math.floor(jm.pick / rows.length) }));
  return { name: file.name, text: rows.join('\n') };
}

/** How an error may name a file: its path, its last segment, or that without the extension (ASB names an agent file by its agent). */
function namesOf(path: string): string[] {
  const last = path.split('/').pop()!;
  return [path, last, last.replace(/\.[a-z]+$/i, '')];
}

async function runSome(scenarios: Scenario[], pick: number) {
  const chosen = [scenarios[0], scenarios[pick % scenarios.length]];
  for (const s of chosen) for (const policy of [oraclePolicy(), complyPolicy()]) expectSaneEpisode(await runEpisode(s, policy, { maxTurns: 3 }));
}

const CASES: { kind: BenchmarkKind; dir: string; runs: number; seed: number }[] = [
  { kind: 'bfcl', dir: 'bfcl', runs: 120, seed: 1401 },
  { kind: 'asb', dir: 'asb', runs: 80, seed: 1402 },
  { kind: 'agentdojo', dir: 'agentdojo', runs: 12, seed: 1403 },
  { kind: 'agent-safetybench', dir: 'agent-safetybench', runs: 120, seed: 1404 },
];

describe('benchmark importers: names that are Object.prototype members are data', () => {
  it('a BFCL parameter type "constructor" or "toString" imports as a string parameter', () => {
    for (const type of ['constructor', 'toString', '__proto__']) {
      const files = loadDir('bfcl');
      const f = files.find((x) => x.name.endsWith('bfcl/BFCL_v4_simple_python.json'))!;
      const lines = f.text.trim().split('\n');
      const r = JSON.parse(lines[0]);
      const props = r.function[0].parameters.properties;
      const k = Object.keys(props)[0];
      Object.defineProperty(props[k], 'type', { value: type, enumerable: true });
      lines[0] = JSON.stringify(r);
      f.text = lines.join('\n');
      const s = importBenchmark('bfcl', files).suite.scenarios.find((x) => x.id === `bfcl-${r.id}`)!;
      expect(s.customTools![0].schema.function.parameters.properties[k].type).toBe('string');
    }
  });
});

describe('size and depth limits come before JSON.parse', () => {
  const huge = ' '.repeat(LIMITS.suiteChars) + '[]';
  it('a benchmark file over the suite limit is refused by its length, naming it', () => {
    expect(() => importBenchmark('bfcl', [{ name: 'BFCL_v4_simple_python.json', text: huge }])).toThrow(
      `BFCL_v4_simple_python.json: is ${huge.length} characters, over the limit of ${LIMITS.suiteChars}`,
    );
    expect(() => importBenchmark('bfcl', [{ name: 'BFCL_v4_simple_python.json', text: `${'['.repeat(5000)}${']'.repeat(5000)}` }])).toThrow(
      `BFCL_v4_simple_python.json: is nested more than ${LIMITS.suiteDepth} levels deep`,
    );
  });
  it("the Evaluate tab's one-file import too", () => {
    expect(() => importSuiteText('suite.json', huge)).toThrow(`suite.json: is ${huge.length} characters, over the limit of ${LIMITS.suiteChars}`);
    expect(() => importSuiteText('suite.json', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`)).toThrow(
      `suite.json: is nested more than ${LIMITS.suiteDepth} levels deep`,
    );
  });
});

describe('property: benchmark releases under arbitrary mutation', () => {
  for (const { kind, dir, runs, seed } of CASES) {
    const files = loadDir(dir).filter((f) => !/\.md$/i.test(f.name));
    // AgentDojo's tasks are ported to TypeScript: only its YAML files are read (the .py are skipped).
    const mutable = files.filter((f) => /\.(jsonl?|ya?ml)$/i.test(f.name));

    it(`${kind}: import and run, or fail naming the file, within 3 s (${runs} runs, seed ${seed})`, async () => {
      let loaded = 0,
        refused = 0;
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.boolean(), jsonMutation, textMutation, async (which, structured, jm, tm) => {
          const target = mutable[which % mutable.length];
          const given = files.map((f) => (f === target ? mutateFile(f, structured, jm, tm) : f));
          await within(3000, async () => {
            let scenarios: Scenario[];
            try {
              scenarios = importBenchmark(kind, given).suite.scenarios;
            } catch (e) {
              expect(e, String(e)).toBeInstanceOf(SuiteError);
              const msg = (e as Error).message;
              expect(
                files.some((f) => namesOf(f.name).some((n) => msg.includes(n))),
                `"${msg}" names none of the files`,
              ).toBe(true);
              refused++;
              return;
            }
            loaded++;
            await runSome(scenarios, which);
          });
        }),
        { seed, numRuns: runs },
      );
      // Both outcomes are exercised (the property is not vacuous).
      expect(loaded).toBeGreaterThan(runs / 10);
      expect(refused).toBeGreaterThan(runs / 10);
    }, 60_000);
  }
});
