// BFCL: import of the released v4 files (JSON Lines, possible_answer matched by id), type mapping,
// dotted names, and the AST check's rules, each with a passing and a failing case; the oracle
// (ground-truth calls) scores 100% on every category, as BFCL's rule says it must.
import { describe, expect, it } from 'vitest';
import { bfclAstCheck, readLiteral, standardize } from '../../src/sandbox/benchmarks/bfcl-ast';
import { bfclParamSchema, importBfcl } from '../../src/sandbox/benchmarks/bfcl';
import { importBenchmark } from '../../src/sandbox/benchmarks/import';
import type { BfclFunction } from '../../src/sandbox/benchmarks/types';
import { runEval } from '../../src/sandbox/evaluate';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { formatToolCall } from '../../src/sandbox/parse';
import { oraclePolicy } from '../../src/sandbox/policies';
import { loadDir, textPolicy } from './helpers';

const fn = (name: string, properties: BfclFunction['parameters']['properties'], required: string[] = []): BfclFunction => ({
  name,
  description: '',
  parameters: { type: 'dict', properties, required },
});
const area = fn('calc.area', { base: { type: 'integer' }, height: { type: 'float' }, unit: { type: 'string' } }, ['base', 'height']);
const areaAnswer = [{ 'calc.area': { base: [10], height: [5.0], unit: ['units', ''] } }];
const check = (args: Record<string, unknown>, f = area, answer: any = areaAnswer, category: any = 'simple_python', language: any = 'python') =>
  bfclAstCheck(category, [f], [{ name: f.name, arguments: args }], answer, language);

describe('BFCL import', () => {
  const { scenarios, skipped } = importBfcl(loadDir('bfcl'));

  it('reads every sample category with its answers, single-turn BU-BT, valid tool names', () => {
    expect(skipped).toEqual([]);
    const byCat = new Map<string, number>();
    for (const s of scenarios) byCat.set(s.benchmark!.kind === 'bfcl' ? s.benchmark!.category : '?', (byCat.get((s.benchmark as any).category) ?? 0) + 1);
    expect(Object.fromEntries(byCat)).toEqual({ irrelevance: 6, multiple: 6, parallel: 6, simple_java: 6, simple_javascript: 6, simple_python: 6 });
    for (const s of scenarios) {
      expect(s.cell).toBe('BU-BT');
      for (const t of s.customTools!) expect(t.schema.function.name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    }
    const fact = scenarios.find((s) => s.id === 'bfcl-simple_python_1')!;
    expect(fact.customTools![0].schema.function.name).toBe('math_factorial');
    expect((fact.benchmark as any).toolNames).toEqual({ math_factorial: 'math.factorial' });
    expect(scenarios.find((s) => s.id === 'bfcl-irrelevance_0')!.benchmark).toMatchObject({ groundTruth: null });
  });

  it('maps BFCL types to JSON Schema (dict, float, tuple, any, Java/JS names), nested', () => {
    expect(
      bfclParamSchema({ type: 'dict', properties: { a: { type: 'float' }, b: { type: 'tuple', items: { type: 'integer' } } }, required: ['a'] }),
    ).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'array', items: { type: 'integer' } } }, required: ['a'] });
    expect(bfclParamSchema({ type: 'any' }).type).toBe('string');
    expect(bfclParamSchema({ type: 'HashMap' }).type).toBe('object');
    expect(bfclParamSchema({ type: 'ArrayList', items: { type: 'String' } })).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(bfclParamSchema({ type: 'Boolean' }).type).toBe('boolean');
    expect(bfclParamSchema({ type: 'long' }).type).toBe('integer');
  });

  it('the oracle (ground-truth calls in one turn) scores 100% on every category; a no-call policy only on irrelevance', async () => {
    const suite = importBenchmark('bfcl', loadDir('bfcl')).suite;
    const oracle = (await runEval(suite.scenarios, oraclePolicy())).report.benchmarks!.bfcl!;
    for (const [cat, a] of Object.entries(oracle.by_category)) expect(a.accuracy, cat).toBe(1);
    expect(oracle.overall).toBe(1);
    expect(oracle.non_live_ast).toBe(1);
    const rewards = (await runEval(suite.scenarios, oraclePolicy())).summaries.map((x) => x.reward);
    expect(Math.min(...rewards)).toBe(1);
    const silent = (await runEval(suite.scenarios, textPolicy('No function fits this request.'))).report.benchmarks!.bfcl!;
    expect(silent.by_category.irrelevance.accuracy).toBe(1);
    expect(silent.by_category.simple_python.accuracy).toBe(0);
    expect(silent.irrelevance).toBe(1);
    expect(silent.overall).toBeCloseTo(6 / 36);
  });

  it('judges only the first turn, with dotted names mapped back', async () => {
    const suite = importBenchmark('bfcl', loadDir('bfcl')).suite;
    const s = suite.scenarios.find((x) => x.id === 'bfcl-simple_python_1')!;
    const good = formatToolCall('math_factorial', { number: 5 });
    expect((await runEval([s], textPolicy(good))).summaries[0].benchmark).toMatchObject({ correct: true });
    expect((await runEval([s], textPolicy(formatToolCall('math.factorial', { number: 5 })))).summaries[0].benchmark).toMatchObject({ correct: true });
    expect((await runEval([s], textPolicy(formatToolCall('math_factorial', { number: 6 })))).summaries[0].benchmark).toMatchObject({
      correct: false,
      errorType: 'value_error:others',
    });
    // The training reward's task criterion is the AST verdict: right function, wrong value earns nothing.
    expect((await runEval([s], textPolicy(good))).summaries[0].reward).toBe(1);
    expect((await runEval([s], textPolicy(formatToolCall('math_factorial', { number: 6 })))).summaries[0].reward).toBe(0);
    const ep = await runEpisode(s, textPolicy(good), { maxTurns: 8 });
    expect(ep.turns).toHaveLength(1); // single-turn: no second generation after the call
  });

  it('accepts a JSON-array file as well as JSON Lines, and names file, line, id and field in errors', () => {
    const q = {
      id: 'simple_python_9',
      question: [[{ role: 'user', content: 'hi' }]],
      function: [{ name: 'f', parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x'] } }],
    };
    const a = { id: 'simple_python_9', ground_truth: [{ f: { x: [1] } }] };
    const r = importBfcl([
      { name: 'BFCL_v4_simple_python.json', text: JSON.stringify([q]) },
      { name: 'possible_answer/BFCL_v4_simple_python.json', text: JSON.stringify(a) },
    ]);
    expect(r.scenarios).toHaveLength(1);
    const bad = { ...q, function: [{ name: 'f', parameters: { type: 'dict', properties: { x: { description: 'no type' } }, required: ['x'] } }] };
    expect(() =>
      importBfcl([
        { name: 'BFCL_v4_simple_python.json', text: `${JSON.stringify(q).replace('_9', '_8')}\n${JSON.stringify(bad)}` },
        { name: 'possible_answer/BFCL_v4_simple_python.json', text: JSON.stringify(a) },
      ]),
    ).toThrow('BFCL_v4_simple_python.json: line 1 (id "simple_python_8"): "id" has no possible_answer entry');
    expect(() =>
      importBfcl([
        { name: 'BFCL_v4_simple_python.json', text: JSON.stringify(bad) },
        { name: 'possible_answer/BFCL_v4_simple_python.json', text: JSON.stringify(a) },
      ]),
    ).toThrow('BFCL_v4_simple_python.json: line 1 (id "simple_python_9"): "function[0].parameters.properties.x.type" must be a non-empty string');
    expect(() => importBfcl([{ name: 'BFCL_v4_simple_python.json', text: '{"id": 1' }])).toThrow('BFCL_v4_simple_python.json: line 1 is not valid JSON');
    expect(() => importBfcl([{ name: 'notes.json', text: '{}' }])).toThrow('BFCL: no question files');
    expect(
      importBfcl([
        { name: 'BFCL_v4_multi_turn_base.json', text: '{}' },
        { name: 'BFCL_v4_simple_python.json', text: JSON.stringify(q) },
        { name: 'possible_answer/BFCL_v4_simple_python.json', text: JSON.stringify(a) },
      ]).skipped[0],
    ).toContain('multi_turn_base');
  });

  it('keeps a required parameter that the properties do not declare (as released): hidden from the schema, still required by the check', () => {
    const q = {
      id: 'simple_python_7',
      question: [[{ role: 'user', content: 'hi' }]],
      function: [{ name: 'f', parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x', 'ghost'] } }],
    };
    const a = { id: 'simple_python_7', ground_truth: [{ f: { x: [1] } }] };
    const [s] = importBenchmark('bfcl', [
      { name: 'BFCL_v4_simple_python.json', text: JSON.stringify(q) },
      { name: 'possible_answer/BFCL_v4_simple_python.json', text: JSON.stringify(a) },
    ]).suite.scenarios;
    expect(s.customTools![0].schema.function.parameters.required).toEqual(['x']);
    const spec = s.benchmark as any;
    expect(bfclAstCheck('simple_python', spec.functions, [{ name: 'f', arguments: { x: 1 } }], spec.groundTruth, 'python')).toMatchObject({
      valid: false,
      errorType: 'simple_function_checker:missing_required',
    });
  });

  it('imports a category file larger than any BFCL release (5,000 entries)', () => {
    const lines: string[] = [],
      answers: string[] = [];
    for (let i = 0; i < 5000; i++) {
      lines.push(
        JSON.stringify({
          id: `simple_python_${i}`,
          question: [[{ role: 'user', content: `compute ${i}` }]],
          function: [{ name: `m.f${i}`, parameters: { type: 'dict', properties: { x: { type: 'integer' } }, required: ['x'] } }],
        }),
      );
      answers.push(JSON.stringify({ id: `simple_python_${i}`, ground_truth: [{ [`m.f${i}`]: { x: [i] } }] }));
    }
    const r = importBenchmark('bfcl', [
      { name: 'BFCL_v4_simple_python.json', text: lines.join('\n') },
      { name: 'possible_answer/BFCL_v4_simple_python.json', text: answers.join('\n') },
    ]);
    expect(r.suite.scenarios).toHaveLength(5000);
  });
});

describe('BFCL AST check (each rule, pass and fail)', () => {
  it('optional parameters: "" allows omission; a parameter without "" must be given', () => {
    expect(check({ base: 10, height: 5 }).valid).toBe(true);
    expect(check({ base: 10, height: 5, unit: 'units' }).valid).toBe(true);
    expect(check({ base: 10, height: 5, unit: 'cm' })).toMatchObject({ valid: false, errorType: 'value_error:string' });
    expect(check({ base: 10 }, fn('calc.area', area.parameters.properties, ['base']), [{ 'calc.area': { base: [10], height: [5] } }])).toMatchObject({
      valid: false,
      errorType: 'simple_function_checker:missing_optional',
    });
  });

  it('required parameters and unexpected parameters', () => {
    expect(check({ base: 10 })).toMatchObject({ valid: false, errorType: 'simple_function_checker:missing_required' });
    expect(check({ base: 10, height: 5, colour: 'red' })).toMatchObject({ valid: false, errorType: 'simple_function_checker:unexpected_param' });
  });

  it("types: int accepted for float; float rejected for int; bool is not an int; a value of the answer's type is a variable", () => {
    expect(check({ base: 10, height: 5 }).valid).toBe(true);
    expect(check({ base: 10, height: 5.0 }).valid).toBe(true);
    expect(check({ base: 10.5, height: 5 })).toMatchObject({ valid: false, errorType: 'type_error:simple' });
    expect(check({ base: true, height: 5 })).toMatchObject({ valid: false, errorType: 'type_error:simple' });
    expect(check({ base: '10', height: 5 })).toMatchObject({ valid: false, errorType: 'type_error:simple' });
    const withVar = [{ 'calc.area': { base: ['b'], height: [5] } }];
    expect(check({ base: 'b', height: 5 }, area, withVar).valid).toBe(true);
    expect(check({ base: 'c', height: 5 }, area, withVar)).toMatchObject({ valid: false, errorType: 'value_error:others' });
  });

  it("strings are compared after BFCL's standardisation (case, spaces, punctuation, quotes)", () => {
    expect(standardize("New York, N.Y.-'x'")).toBe('newyorkny"x"');
    expect(check({ base: 10, height: 5, unit: 'UNITS ' }).valid).toBe(true);
    expect(check({ base: 10, height: 5, unit: 'unit' }).valid).toBe(false);
  });

  it('lists match in order (strings standardised); nested item types are checked', () => {
    const f = fn('g', { xs: { type: 'array', items: { type: 'integer' } }, names: { type: 'tuple', items: { type: 'string' } } });
    const ans = [{ g: { xs: [[1, 2]], names: [['New York', 'Paris'], ''] } }];
    expect(check({ xs: [1, 2] }, f, ans).valid).toBe(true);
    expect(check({ xs: [2, 1] }, f, ans)).toMatchObject({ valid: false, errorType: 'value_error:list/tuple' });
    expect(check({ xs: [1, 2], names: ['new york', 'PARIS'] }, f, ans).valid).toBe(true);
    expect(check({ xs: [1, 2], names: ['Paris', 'New York'] }, f, ans).valid).toBe(false);
    expect(check({ xs: [1.5, 2] }, f, [{ g: { xs: [[1.5, 2]] } }]).valid).toBe(true); // nested type of the answer counts, as in BFCL
    expect(check({ xs: ['1', '2'] }, f, ans).valid).toBe(false);
  });

  it('dicts: every key allowed with an allowed value, keys with "" may be omitted; lists of dicts in order', () => {
    const f = fn('h', {
      opts: { type: 'dict', properties: { limit: { type: 'integer' }, schema: { type: 'string' } } },
      rows: { type: 'array', items: { type: 'dict' } },
    });
    const ans = [{ h: { opts: [{ limit: [50], schema: ['public', ''] }], rows: [[{ a: [1] }, { a: [2] }], ''] } }];
    expect(check({ opts: { limit: 50 } }, f, ans).valid).toBe(true);
    expect(check({ opts: { limit: 50, schema: 'PUBLIC' } }, f, ans).valid).toBe(true);
    expect(check({ opts: { schema: 'public' } }, f, ans)).toMatchObject({ valid: false, errorType: 'value_error:dict_key' });
    expect(check({ opts: { limit: 50, other: 1 } }, f, ans)).toMatchObject({ valid: false, errorType: 'value_error:dict_key' });
    expect(check({ opts: { limit: 51 } }, f, ans)).toMatchObject({ valid: false, errorType: 'value_error:dict_value' });
    expect(check({ opts: { limit: 50 }, rows: [{ a: 1 }, { a: 2 }] }, f, ans).valid).toBe(true);
    expect(check({ opts: { limit: 50 }, rows: [{ a: 2 }, { a: 1 }] }, f, ans).valid).toBe(false);
    expect(check({ opts: { limit: 50 }, rows: [{ a: 1 }] }, f, ans)).toMatchObject({ valid: false, errorType: 'value_error:list_dict_count' });
  });

  it('parallel: any order, each call used once, right count; multiple: exactly one call of the right function', () => {
    const f = fn('play', { artist: { type: 'string' }, duration: { type: 'integer' } }, ['artist']);
    const ans = [{ play: { artist: ['Taylor Swift'], duration: [20] } }, { play: { artist: ['Maroon 5'], duration: [15] } }];
    const call = (artist: string, duration: number) => ({ name: 'play', arguments: { artist, duration } });
    expect(bfclAstCheck('parallel', [f], [call('Maroon 5', 15), call('Taylor Swift', 20)], ans, 'python').valid).toBe(true);
    expect(bfclAstCheck('parallel', [f], [call('Taylor Swift', 20), call('Taylor Swift', 20)], ans, 'python')).toMatchObject({
      valid: false,
      errorType: 'parallel_function_checker_no_order:cannot_find_match',
    });
    expect(bfclAstCheck('parallel', [f], [call('Taylor Swift', 20)], ans, 'python')).toMatchObject({
      valid: false,
      errorType: 'parallel_function_checker_no_order:wrong_count',
    });
    const other = fn('stop', {});
    expect(bfclAstCheck('multiple', [other, f], [call('Taylor Swift', 20)], [ans[0]], 'python').valid).toBe(true);
    expect(bfclAstCheck('multiple', [other, f], [{ name: 'stop', arguments: {} }], [ans[0]], 'python')).toMatchObject({
      valid: false,
      errorType: 'simple_function_checker:wrong_func_name',
    });
    expect(bfclAstCheck('multiple', [other, f], [call('Taylor Swift', 20), { name: 'stop', arguments: {} }], [ans[0]], 'python')).toMatchObject({
      valid: false,
      errorType: 'multiple_function_checker:wrong_count',
    });
  });

  it('irrelevance succeeds only with no call; live_relevance only with one', () => {
    expect(bfclAstCheck('irrelevance', [area], [], null, 'python').valid).toBe(true);
    expect(bfclAstCheck('irrelevance', [area], [{ name: 'calc.area', arguments: {} }], null, 'python').valid).toBe(false);
    expect(bfclAstCheck('live_relevance', [area], [{ name: 'calc.area', arguments: {} }], null, 'python').valid).toBe(true);
    expect(bfclAstCheck('live_relevance', [area], [], null, 'python').valid).toBe(false);
  });

  it('Java and JavaScript: typed JSON or the language literal BFCL asks for', () => {
    const j = fn('Util.run', {
      flag: { type: 'boolean' },
      n: { type: 'long' },
      xs: { type: 'ArrayList', items: { type: 'String' } },
      params: { type: 'HashMap' },
      name: { type: 'String' },
    });
    const ans = [{ 'Util.run': { flag: [true], n: [5], xs: [['a', 'b']], params: [{ limit: [50], schemaFilter: ['public'] }], name: ['mapController'] } }];
    const jcheck = (args: Record<string, unknown>) => check(args, j, ans, 'simple_java', 'java');
    expect(jcheck({ flag: true, n: 5, xs: ['a', 'b'], params: { limit: 50, schemaFilter: 'public' }, name: 'mapController' }).valid).toBe(true);
    expect(
      jcheck({
        flag: 'true',
        n: '5L',
        xs: 'new ArrayList<>(Arrays.asList("a", "b"))',
        params: 'new HashMap<String, Object>() {{ put("limit", 50); put("schemaFilter", "public"); }}',
        name: 'mapController',
      }).valid,
    ).toBe(true);
    expect(jcheck({ flag: 'yes', n: 5, xs: ['a', 'b'], params: { limit: 50, schemaFilter: 'public' }, name: 'mapController' })).toMatchObject({
      valid: false,
      errorType: 'type_error:java',
    });
    expect(jcheck({ flag: 'false', n: 5, xs: ['a', 'b'], params: { limit: 50, schemaFilter: 'public' }, name: 'mapController' }).valid).toBe(false);
    expect(readLiteral('new int[]{1, 2}', 'list', 'int')).toEqual([1, 2]);
    expect(readLiteral('Map.of("a", 1)', 'dict')).toEqual({ a: 1 });
    const js = fn('f', { items: { type: 'array', items: { type: 'String' } }, opts: { type: 'dict' } });
    const jsAns = [{ f: { items: [['completed', 'failed']], opts: [{ retries: [3] }] } }];
    expect(check({ items: "['completed', 'failed']", opts: '{retries: 3}' }, js, jsAns, 'simple_javascript', 'javascript').valid).toBe(true);
    expect(check({ items: ['completed', 'failed'], opts: { retries: 3 } }, js, jsAns, 'simple_javascript', 'javascript').valid).toBe(true);
    expect(check({ items: "['failed', 'completed']", opts: '{retries: 3}' }, js, jsAns, 'simple_javascript', 'javascript').valid).toBe(false);
  });
});
