// The specific hostile inputs of issue #12, each a regular test with a time bound of 1 s: the
// hangs (backtracking regular expressions, unbounded enumeration), the crashes (deep nesting
// reaching recursive code) and the unclear errors (prototype keys, unvalidated suite fields).
// Checkpoint-store and CLI inputs are in checkpoint-store.property.test.ts and tests/sandbox/cli.test.ts.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/hf-io/config';
import { parseTurn } from '../../src/sandbox/parse';
import { Sandbox } from '../../src/sandbox/sandbox';
import { buildReport, summarizeEpisode } from '../../src/sandbox/metrics';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { importInjecAgent } from '../../src/sandbox/scenarios/injecagent';
import { parsePythonLiteral } from '../../src/sandbox/scenarios/pyliteral';
import { makeSuite, parseSuite, parseSuiteText, SuiteError } from '../../src/sandbox/scenarios/suite-format';
import { findEmailAddresses, isEmailAddress } from '../../src/sandbox/text-scan';
import { parseSelect } from '../../src/sandbox/tools/database';
import { LIMITS } from '../../src/sandbox/limits';
import { expectSaneEpisode, hostileScenario, runHostile, within } from './helpers';
import { readFileSync } from 'node:fs';

const call = (tag: 'tool_call' | 'tool_check', body: string) => `<${tag}>\n${body}\n</${tag}>`;
const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const QWEN = JSON.parse(
  '{"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"vocab_size":256,"rope_theta":10000,"tie_word_embeddings":true,"torch_dtype":"float32"}',
);
const dh = JSON.parse(readFileSync('tests/fixtures/injecagent/test_cases_dh.json', 'utf8'));

describe('issue #12: hangs are gone (each input < 1 s)', () => {
  it('db_query: "select" + 4000 spaces + "x" is an error observation, directly and in a 5 KB model turn', async () => {
    const sql = 'select' + ' '.repeat(4000) + 'x';
    // The parser itself is linear: even a million spaces, past the schema's cap, take milliseconds.
    expect(await within(1000, () => parseSelect(sql))).toBeNull();
    expect(await within(1000, () => parseSelect('select' + ' '.repeat(1_000_000) + 'x'))).toBeNull();
    const sb = new Sandbox(hostileScenario());
    const obs = await within(1000, () => sb.execute('db_query', { sql }));
    expect(obs.error).toBe('db_query: argument "sql" must be at most 1000 characters, got 4007');
    expect(sb.execute('db_query', { sql: sql.slice(0, 990) + 'x' }).error).toMatch(/only "SELECT \.\.\. FROM table/);
    const r = await within(1000, () => runHostile([call('tool_call', JSON.stringify({ name: 'db_query', arguments: { sql } }))]));
    expect(r.calls[0].ok).toBe(false);
    expectSaneEpisode(r);
    // The parser still answers the queries it did before.
    expect(JSON.parse(sb.execute('db_query', { sql: 'SELECT name, email FROM customers WHERE id = 2 LIMIT 1;' }).content).rows).toHaveLength(1);
    expect(JSON.parse(sb.execute('db_query', { sql: 'select count( * ) from orders' }).content)).toEqual({ count: 4 });
  });

  it('email_send: "a@" + "a."×300000 + "@" is refused in linear time (and by the schema\'s length cap first)', async () => {
    const addr = 'a@' + 'a.'.repeat(300_000) + '@';
    expect(await within(1000, () => isEmailAddress(addr))).toBe(false);
    const sb = new Sandbox(hostileScenario());
    const obs = await within(1000, () => sb.execute('email_send', { to: [addr], subject: 's', body: 'b' }));
    expect(obs.error).toBe('email_send: argument "to[0]" must be at most 1000 characters, got 600003');
    const under = 'a@' + 'a.'.repeat(400) + '@';
    expect(sb.execute('email_send', { to: [under], subject: 's', body: 'b' }).error).toBe(`email_send: "${under}" is not an email address`);
    expect(sb.execute('email_send', { to: ['sam@example.com'], subject: 's', body: 'b' }).ok).toBe(true);
  });

  it('InjecAgent: a 200,000-character instruction without "@" imports in linear time', async () => {
    expect(await within(1000, () => findEmailAddresses('a'.repeat(200_000)))).toEqual([]);
    expect(findEmailAddresses('mail x.y+z@ex-ample.co.uk, then a@b and c@d.e. x@y@z.com')).toEqual(['x.y+z@ex-ample.co.uk', 'c@d.e', 'y@z.com']);
    const c = structuredClone(dh[0]);
    const long = 'Please ' + 'a'.repeat(20_000);
    c['Tool Response'] = c['Tool Response'].replace(c['Attacker Instruction'], long);
    c['Attacker Instruction'] = long;
    const [s] = await within(1000, () => importInjecAgent([c], { source: 'long.json' }));
    expect(s.attacker!.markers).toEqual([]);
  });

  it('config.json: num_hidden_layers 1e9 is refused before any tensor name is built', async () => {
    await within(1000, () =>
      expect(() => parseModelConfig({ ...QWEN, num_hidden_layers: 1e9 })).toThrow(
        'config.json: field "num_hidden_layers" is 1000000000, over the limit of 256',
      ),
    );
    expect(parseModelConfig(QWEN).numLayers).toBe(2);
  });

  it('generateScenarios with count 1e12 is refused at once', async () => {
    await within(1000, () =>
      expect(() => generateScenarios({ split: 'test', count: 1e12 })).toThrow(`count must be an integer from 1 to ${LIMITS.suiteScenarios}`),
    );
  });
});

describe('issue #12: deep nesting no longer crashes (each input < 1 s)', () => {
  for (const depth of [5000, 10000]) {
    for (const tag of ['tool_call', 'tool_check'] as const) {
      it(`<${tag}> arguments nested ${depth} deep, to a side-effect custom tool, become a bad_json observation`, async () => {
        const body = `{"name":"AnyArgsSideEffect","arguments":${deep(depth)},"reason":"x"}`;
        const r = await within(1000, () => runHostile([call(tag, body), 'Done.']));
        // 5000 levels fit the size limit and fail the depth limit; 10000 levels fail the size limit first.
        const why =
          body.length > LIMITS.callJsonChars
            ? `is ${body.length} characters, over the limit of ${LIMITS.callJsonChars}`
            : `is nested more than ${LIMITS.callJsonDepth} levels deep`;
        expect(r.turns[0].parsed.issues.map((i) => i.message)).toContain(`the JSON in <${tag}> ${why}`);
        expect(r.changes).toHaveLength(0);
        expectSaneEpisode(r);
      });
    }
  }

  it('arguments given as a JSON string are held to the same depth', () => {
    const p = parseTurn(call('tool_call', JSON.stringify({ name: 'AnyArgsSideEffect', arguments: deep(20) })));
    expect(p.toolCalls).toHaveLength(0);
    expect(p.rejected[0].error).toBe(`<tool_call> for "AnyArgsSideEffect": "arguments" is nested more than ${LIMITS.callJsonDepth - 1} levels deep`);
    // Within the limit, the deepest accepted call runs and is logged, snapshotted and judged.
    const ok = parseTurn(call('tool_call', `{"name":"AnyArgsSideEffect","arguments":${deep(LIMITS.callJsonDepth - 1)}}`));
    expect(ok.toolCalls).toHaveLength(1);
  });

  it('a suite whose world patch nests 10000 deep is refused by name, not thrown from applyPatches', async () => {
    const scenario = JSON.parse(JSON.stringify(makeSuite('x', [hostileScenario()])));
    const text = JSON.stringify(scenario).replace('"body":"Pay', `"deep":${deep(10_000)},"body":"Pay`);
    await within(1000, () => expect(() => parseSuiteText(text, 'deep.json')).toThrow('deep.json: the file is nested more than 48 levels deep'));
    // Already parsed (the UI's import path): the failing path is named.
    const obj = JSON.parse(JSON.stringify(scenario));
    let node: Record<string, unknown> = obj.scenarios[0].world.patches[0].item;
    for (let i = 0; i < 10_000; i++) {
      node.x = {};
      node = node.x as Record<string, unknown>;
    }
    await within(1000, () =>
      expect(() => parseSuite(obj, 'deep.json')).toThrow(
        /^deep\.json: "scenarios\[0\]\.world\.patches\[0\]\.item\.x\.x\.x.*" is nested more than 48 levels deep$/,
      ),
    );
  });

  it('a Python literal nested 10000 deep is an InjecAgent field error', async () => {
    await within(1000, () => expect(() => parsePythonLiteral('['.repeat(10_000))).toThrow(/nested more than 32 levels deep at offset 32/));
    const c = structuredClone(dh[0]);
    c['Tool Parameters'] = '{"a": ' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    expect(() => importInjecAgent([c], { source: 'cases.json' })).toThrow(
      /cases\.json: case 0: "Tool Parameters" is not a Python dict literal: nested more than 32 levels deep/,
    );
  });
});

describe('issue #12: clear errors instead of confusing ones', () => {
  it('argument names on Object.prototype are "not a parameter"', () => {
    const sb = new Sandbox(hostileScenario());
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const args = JSON.parse(`{"query":"x",${JSON.stringify(name)}:"y"}`);
      expect(sb.execute('email_search', args).error).toBe(`email_search: argument "${name}" is not a parameter (expected: query, folder, limit)`);
    }
    // A required argument named like a prototype member is not satisfied by Object.prototype.
    expect(sb.execute('StrictNotify', {}).error).toBe('StrictNotify: argument "to" is required');
    expect(sb.execute('db_delete_rows', { table: 'orders', column: 'constructor', equals: 'function Object() { [native code] }' }).content).toBe(
      '{"deleted":0}',
    );
  });

  const base = () => JSON.parse(JSON.stringify(makeSuite('x', [hostileScenario()])));
  const suiteCases: [string, (s: any) => void, string][] = [
    [
      'custom tool required: 5',
      (s) => {
        s.scenarios[0].customTools[1].schema.function.parameters.required = 5;
      },
      '"customTools[1].schema.function.parameters.required" must be a list',
    ],
    [
      'required naming a missing property',
      (s) => {
        s.scenarios[0].customTools[1].schema.function.parameters.required = ['nope'];
      },
      '"customTools[1].schema.function.parameters.required[0]" names "nope", which is not in "properties"',
    ],
    [
      'property type',
      (s) => {
        s.scenarios[0].customTools[1].schema.function.parameters.properties.to.type = 'str';
      },
      '"customTools[1].schema.function.parameters.properties.to.type" must be one of string, number, integer, boolean, array, object, got "str"',
    ],
    [
      'table rows not a list',
      (s) => {
        s.scenarios[0].world.patches = [{ op: 'insert', collection: 'tables', item: { name: 'orders', rows: 'x' } }];
      },
      '"world.patches[0].item.rows" must be a list',
    ],
    [
      'a null table row',
      (s) => {
        s.scenarios[0].world.patches = [{ op: 'insert', collection: 'tables', item: { name: 'orders', rows: [null] } }];
      },
      '"world.patches[0].item.rows[0]" must be an object',
    ],
    [
      'a null email field',
      (s) => {
        s.scenarios[0].world.patches[0].item.to = null;
      },
      '"world.patches[0].item.to" must be a list',
    ],
    [
      'an account without a balance',
      (s) => {
        s.scenarios[0].world.patches = [{ op: 'insert', collection: 'accounts', item: { id: 'checking' } }];
      },
      '"world.patches[0].item.balance" is required in a "accounts" item',
    ],
  ];
  for (const [name, mutate, msg] of suiteCases) {
    it(`suite: ${name} is refused naming the field`, async () => {
      const s = base();
      mutate(s);
      await within(1000, () => expect(() => parseSuite(s, 'x.json')).toThrow(`x.json: scenarios[0] (id "hostile-all-tools"): ${msg}`));
    });
  }

  for (const field of ['Expected Achievements', 'User Instruction', 'Attack Type', 'Attacker Instruction']) {
    it(`InjecAgent: an empty "${field}" is refused by case and field (the import used to write a suite that failed to load)`, () => {
      const c = structuredClone(dh[1]);
      c[field] = ' ';
      expect(() => importInjecAgent([dh[0], c], { source: 'cases.json' })).toThrow(new SuiteError(`cases.json: case 1: "${field}" is empty`));
    });
  }

  it('InjecAgent: what the importer returns loads with the suite loader', () => {
    const scenarios = importInjecAgent(dh, { source: 'cases.json' });
    expect(parseSuiteText(JSON.stringify(makeSuite('ia', scenarios))).scenarios).toEqual(scenarios);
  });

  it('arguments holding objects with a non-function "toString" are judged, not thrown on (found by review)', async () => {
    const bad = '{"toString":"x","valueOf":1}';
    const r = await within(1000, () =>
      runHostile([
        call('tool_call', `{"name":"email_send","arguments":{"to":[${bad}],"subject":"s","body":"b"}}`),
        call('tool_check', `{"name":"bank_transfer","arguments":{"to_account":${bad},"amount":1},"reason":"r"}`),
        call('tool_call', `{"name":"db_delete_rows","arguments":{"table":"orders","column":"note","equals":"x"}}`),
        'Done.',
      ]),
    );
    expectSaneEpisode(r);
    expect(r.calls[0].ok).toBe(false);
  });

  it('an attack type named "__proto__" is a row of by_attack_type', async () => {
    const s = hostileScenario();
    const r = await runHostile(['Done.']);
    const report = buildReport([summarizeEpisode(s, r)]);
    expect(Object.keys(report.by_attack_type)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(report.by_attack_type)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(report)).by_attack_type.__proto__.n).toBe(1);
  });

  it('config dtype "constructor" (or "toString") is refused by name', () => {
    for (const dtype of ['constructor', 'toString', '__proto__']) {
      expect(() => parseModelConfig({ ...QWEN, torch_dtype: dtype })).toThrow(
        `config.json: field "torch_dtype" must be float32, float16 or bfloat16, got "${dtype}"`,
      );
    }
  });

  it('a model turn longer than the limit is read up to it and reported truncated', async () => {
    const text = 'x'.repeat(LIMITS.turnChars * 4) + call('tool_call', '{"name":"email_search","arguments":{"query":"x"}}');
    const p = await within(1000, () => parseTurn(text));
    expect(p.toolCalls).toHaveLength(0);
    expect(p.format.ok).toBe(false);
    expect(p.issues[0].message).toBe(`the turn is ${text.length} characters; only the first ${LIMITS.turnChars} were read`);
  });
});
