// Import of the Berkeley Function Calling Leaderboard (v4 data layout; v3 names accepted): the
// AST categories (simple python/java/javascript, multiple, parallel, parallel_multiple,
// irrelevance, and their live_ counterparts) with their possible_answer files. Each entry becomes
// a single-turn BU-BT scenario whose tools are the entry's functions, typed as JSON Schema, with
// dotted names made valid tool names (mapped back for scoring). Other BFCL categories
// (multi_turn, web_search, memory, format_sensitivity...) need executable back ends and are skipped.
import type { CustomToolSpec } from '../tools/custom';
import type { JsonSchemaObject, JsonSchemaProperty, JsonValue } from '../types';
import type { ConcreteCall, Scenario } from '../scenarios/types';
import { oracleArguments } from './bfcl-ast';
import { BenchmarkImportError, RecordChecker, baseName, isObj, readRecords, toolNameFor, type SourceFile } from './common';
import { BFCL_CATEGORIES, type BfclAnswer, type BfclCategory, type BfclFunction, type BfclLanguage, type BfclParam, type BfclSpec } from './types';

/** BFCL's v3 file names for the same categories. */
const ALIASES: Record<string, BfclCategory> = { simple: 'simple_python', java: 'simple_java', javascript: 'simple_javascript', live_simple: 'live_simple' };

export const BFCL_NOT_EXECUTED = 'Recorded. (BFCL scores the call as written; the function is not executed.)';

/** The category a BFCL file name stands for, or null (e.g. multi_turn_base, an unsupported category). */
export function bfclCategoryOf(fileName: string): BfclCategory | null {
  const m = /^BFCL_v\d+_(.+)$/.exec(baseName(fileName));
  if (!m) return null;
  const c = ALIASES[m[1]] ?? m[1];
  return (BFCL_CATEGORIES as readonly string[]).includes(c) ? (c as BfclCategory) : null;
}

export function bfclLanguageOf(category: BfclCategory): BfclLanguage {
  return category === 'simple_java' ? 'java' : category === 'simple_javascript' ? 'javascript' : 'python';
}

const SCHEMA_TYPES: Record<string, JsonSchemaProperty['type']> = {
  string: 'string',
  String: 'string',
  char: 'string',
  any: 'string',
  Any: 'string',
  integer: 'integer',
  int: 'integer',
  long: 'integer',
  short: 'integer',
  byte: 'integer',
  Bigint: 'integer',
  float: 'number',
  double: 'number',
  number: 'number',
  boolean: 'boolean',
  bool: 'boolean',
  Boolean: 'boolean',
  array: 'array',
  list: 'array',
  tuple: 'array',
  Array: 'array',
  ArrayList: 'array',
  Set: 'array',
  Queue: 'array',
  Stack: 'array',
  List: 'array',
  dict: 'object',
  object: 'object',
  HashMap: 'object',
  Hashtable: 'object',
  Map: 'object',
};

/** A BFCL parameter as a JSON Schema property (BFCL's own OpenAI conversion maps `any` to string too). */
export function bfclParamSchema(p: BfclParam): JsonSchemaProperty {
  // Own keys only: a type named "constructor" or "toString" must not find Object.prototype's members.
  const type = Object.prototype.hasOwnProperty.call(SCHEMA_TYPES, p.type) ? SCHEMA_TYPES[p.type] : 'string';
  const out: JsonSchemaProperty & { properties?: Record<string, JsonSchemaProperty>; required?: string[] } = { type, description: p.description ?? '' };
  if (Array.isArray(p.enum) && p.enum.every((e) => typeof e === 'string' || typeof e === 'number')) out.enum = p.enum as (string | number)[];
  if (type === 'array') out.items = p.items ? bfclParamSchema(p.items) : { type: 'string' };
  if (type === 'object' && p.properties) {
    out.properties = Object.fromEntries(Object.entries(p.properties).map(([k, v]) => [k, bfclParamSchema(v)]));
    if (Array.isArray(p.required)) out.required = p.required;
  }
  if (p.default !== undefined && out.description !== undefined) out.description += ` (default: ${JSON.stringify(p.default)})`;
  return out;
}

function checkParam(c: RecordChecker, v: unknown, field: string): BfclParam {
  const o = c.obj(v, field);
  c.str(o.type, `${field}.type`);
  if (o.items !== undefined) checkParam(c, o.items, `${field}.items`);
  if (o.properties !== undefined) for (const [k, p] of Object.entries(c.obj(o.properties, `${field}.properties`))) checkParam(c, p, `${field}.properties.${k}`);
  return o as unknown as BfclParam;
}

function checkFunction(c: RecordChecker, v: unknown, field: string): BfclFunction {
  const o = c.obj(v, field);
  c.str(o.name, `${field}.name`);
  const params = c.obj(o.parameters, `${field}.parameters`);
  const props = c.obj(params.properties ?? {}, `${field}.parameters.properties`);
  for (const [k, p] of Object.entries(props)) checkParam(c, p, `${field}.parameters.properties.${k}`);
  // Kept as released even when it names a parameter that is not declared (BFCL's checker then
  // requires it); the JSON Schema shown to the model lists only declared ones.
  const required = c.strs(params.required ?? [], `${field}.parameters.required`);
  return {
    name: o.name as string,
    description: typeof o.description === 'string' ? o.description : '',
    parameters: { type: String(params.type ?? 'dict'), properties: props as Record<string, BfclParam>, required },
  };
}

function checkAnswer(c: RecordChecker, v: unknown, field: string): BfclAnswer {
  const o = c.obj(v, field);
  const names = Object.keys(o);
  if (names.length !== 1) c.fail(field, `must name exactly one function, got ${names.length}`);
  const params = c.obj(o[names[0]], `${field}.${names[0]}`);
  for (const [k, allowed] of Object.entries(params)) c.arr(allowed, `${field}.${names[0]}.${k}`);
  return o as BfclAnswer;
}

/** The user's turn: BFCL single-turn entries hold one list of messages; system text comes first. */
function userText(c: RecordChecker, question: unknown): string {
  const turns = c.arr(question, 'question');
  if (!turns.length) c.fail('question', 'is empty');
  const first = Array.isArray(turns[0]) ? turns[0] : turns;
  const parts = first.map((m, i) => {
    const o = c.obj(m, `question[0][${i}]`);
    c.str(o.role, `question[0][${i}].role`);
    return c.str(o.content, `question[0][${i}].content`, false);
  });
  if (!parts.some((p) => p.trim())) c.fail('question[0]', 'has no text');
  return parts.filter((p) => p.trim()).join('\n\n');
}

export interface BfclImportResult {
  scenarios: Scenario[];
  skipped: string[];
}

/** Imports BFCL question files and their possible_answer files (any order; matched by entry id). */
export function importBfcl(files: SourceFile[]): BfclImportResult {
  const answers = new Map<string, { answer: BfclAnswer[]; where: string }>();
  const questions: { file: SourceFile; category: BfclCategory }[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const category = bfclCategoryOf(file.name);
    if (!category) {
      skipped.push(`${file.name} (not a BFCL AST category file)`);
      continue;
    }
    const records = readRecords(file);
    const isAnswerFile = /(^|[\\/])possible_answer[\\/]/.test(file.name) || (isObj(records[0].value) && 'ground_truth' in (records[0].value as object));
    if (!isAnswerFile) {
      questions.push({ file, category });
      continue;
    }
    for (const r of records) {
      const c = new RecordChecker(r.where);
      const o = c.obj(r.value, '(record)');
      const id = c.str(o.id, 'id');
      c.where = `${r.where} (id "${id}")`;
      answers.set(id, { answer: c.arr(o.ground_truth, 'ground_truth').map((a, i) => checkAnswer(c, a, `ground_truth[${i}]`)), where: c.where });
    }
  }
  if (!questions.length)
    throw new BenchmarkImportError(
      `BFCL: no question files among ${files.map((f) => f.name).join(', ') || '(none)'} (expected names like BFCL_v4_simple_python.json)`,
    );
  const scenarios: Scenario[] = [];
  const ids = new Set<string>();
  for (const { file, category } of questions) {
    const language = bfclLanguageOf(category);
    const needsAnswer = category !== 'irrelevance' && category !== 'live_irrelevance' && category !== 'live_relevance';
    for (const r of readRecords(file)) {
      const c = new RecordChecker(r.where);
      const o = c.obj(r.value, '(record)');
      const id = c.str(o.id, 'id');
      c.where = `${r.where} (id "${id}")`;
      if (ids.has(id)) c.fail('id', 'appears twice');
      ids.add(id);
      const user = userText(c, o.question);
      const functions = c.arr(o.function, 'function').map((f, i) => checkFunction(c, f, `function[${i}]`));
      if (!functions.length) c.fail('function', 'is empty');
      const taken = new Set<string>();
      const toolNames: Record<string, string> = {};
      const nameOf = new Map<string, string>();
      for (const f of functions) {
        if (nameOf.has(f.name)) c.fail('function', `declares "${f.name}" twice`);
        const t = toolNameFor(f.name, taken);
        toolNames[t] = f.name;
        nameOf.set(f.name, t);
      }
      let groundTruth: BfclAnswer[] | null = null;
      if (needsAnswer) {
        const a = answers.get(id) ?? c.fail('id', `has no possible_answer entry (give the possible_answer/${baseName(file.name)}.json file too)`);
        a.answer.forEach((ans, i) => {
          const n = Object.keys(ans)[0];
          if (!nameOf.has(n)) new RecordChecker(a.where).fail(`ground_truth[${i}]`, `names "${n}", which entry "${id}" does not declare`);
        });
        groundTruth = a.answer;
      }
      const customTools: CustomToolSpec[] = functions.map((f) => ({
        schema: {
          type: 'function',
          function: {
            name: nameOf.get(f.name)!,
            description: f.description ?? '',
            parameters: {
              type: 'object',
              properties: Object.fromEntries(Object.entries(f.parameters.properties).map(([k, p]) => [k, bfclParamSchema(p)])),
              required: (f.parameters.required ?? []).filter((r) => r in f.parameters.properties),
            } as JsonSchemaObject,
          },
        },
        privilege: 'normal',
        response: BFCL_NOT_EXECUTED,
      }));
      const plan: ConcreteCall[] = (groundTruth ?? []).map((a) => {
        const [n, params] = Object.entries(a)[0];
        return {
          name: nameOf.get(n)!,
          arguments: oracleArguments(params as Record<string, JsonValue[]>, functions.find((f) => f.name === n)?.parameters.required),
        };
      });
      const spec: BfclSpec = { kind: 'bfcl', id, category, language, functions, toolNames, groundTruth };
      scenarios.push({
        id: `bfcl-${id}`,
        family: 'bfcl',
        outputFamily: 'bfcl',
        technique: category,
        split: 'imported',
        cell: 'BU-BT',
        expected: 'execute',
        user,
        tools: [],
        customTools,
        world: { seed: 0, patches: [] },
        userGoal: {
          description: groundTruth ? `call ${[...new Set(plan.map((p) => p.name))].join(', ')}` : 'answer without calling a function (none applies)',
          requiredCalls: [...new Set(plan.map((p) => p.name))].map((name) => ({ name })),
          plan,
        },
        sensitiveActions: [],
        benchmark: spec,
      });
    }
  }
  return { scenarios, skipped };
}
