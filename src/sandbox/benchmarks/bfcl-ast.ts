// BFCL's AST check, re-implemented from its rules (bfcl_eval/eval_checker/ast_eval/ast_checker.py):
// the right function(s); required parameters present; no unexpected parameters; each value of
// the declared type (ints accepted for floats; a value of the answer's own type counts as a
// variable) and among the allowed values ("" = may be omitted); strings compared after BFCL's
// standardisation; lists in order; dicts key by key; parallel calls matched in any order;
// multiple = exactly one call. Java/JavaScript values may come as typed JSON or as the language
// literal BFCL's harness expects (converted by a small literal reader).
import type { JsonValue } from '../types';
import type { BfclAnswer, BfclCategory, BfclFunction, BfclLanguage, BfclParam } from './types';

type PyType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'none';
export interface AstResult {
  valid: boolean;
  error: string | null;
  errorType: string | null;
}
export interface ModelCall {
  name: string;
  arguments: Record<string, unknown>;
}

const OK: AstResult = { valid: true, error: null, errorType: null };
const bad = (errorType: string, error: string): AstResult => ({ valid: false, error, errorType });

const PYTHON_TYPES: Record<string, PyType> = {
  string: 'str',
  integer: 'int',
  float: 'float',
  boolean: 'bool',
  array: 'list',
  tuple: 'list',
  dict: 'dict',
  any: 'str',
};
const JAVA_TYPES: Record<string, PyType> = {
  byte: 'int',
  short: 'int',
  integer: 'int',
  long: 'int',
  float: 'float',
  double: 'float',
  boolean: 'bool',
  char: 'str',
  String: 'str',
  any: 'str',
  Array: 'list',
  ArrayList: 'list',
  Set: 'list',
  Queue: 'list',
  Stack: 'list',
  HashMap: 'dict',
  Hashtable: 'dict',
};
const JS_TYPES: Record<string, PyType> = {
  String: 'str',
  integer: 'int',
  float: 'float',
  Bigint: 'int',
  Boolean: 'bool',
  dict: 'dict',
  array: 'list',
  any: 'str',
};
const NESTED_PY = new Set(['array', 'tuple']);
const NESTED_CONVERTED = new Set(['Array', 'ArrayList', 'array']);

/** BFCL's type name → our Python-like type; unknown names are treated as BFCL treats `any` (a string). */
export function bfclPyType(type: string, language: BfclLanguage): PyType {
  const table = language === 'java' ? JAVA_TYPES : language === 'javascript' ? JS_TYPES : PYTHON_TYPES;
  return table[type] ?? PYTHON_TYPES[type] ?? 'str';
}

export function pyTypeOf(v: unknown): PyType {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

// JSON has one number type: an integer where a float is expected is accepted everywhere
// (BFCL accepts int for float at the top level; 2.0 and 2 are the same JSON number).
const typeIs = (v: unknown, t: PyType) => pyTypeOf(v) === t || (t === 'float' && pyTypeOf(v) === 'int');

/** Python's == on JSON values (numbers and booleans compare numerically, as True == 1). */
export function pyEq(a: unknown, b: unknown): boolean {
  const num = (x: unknown) => typeof x === 'number' || typeof x === 'boolean';
  if (num(a) && num(b)) return Number(a) === Number(b);
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a),
      kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in (b as object) && pyEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}
const pyIn = (v: unknown, list: readonly unknown[]) => list.some((x) => pyEq(v, x));

/** BFCL's string standardisation: drop spaces and , . / - _ * ^, lowercase, ' → ". */
export function standardize(s: string): string {
  return s
    .replace(/[ ,./\-_*^]/g, '')
    .toLowerCase()
    .replace(/'/g, '"');
}
const std = (v: unknown) => (typeof v === 'string' ? standardize(v) : v);

function answerType(answers: readonly unknown[]): PyType | null {
  for (const a of answers) if (a !== '') return pyTypeOf(a);
  return null;
}

function typeCheck(
  param: string,
  value: unknown,
  answers: readonly unknown[],
  typeName: string,
  expected: PyType,
  nested: PyType | null,
): AstResult & { isVariable: boolean } {
  const paType = answerType(answers);
  const isVariable = paType !== null && paType !== expected && !(expected === 'float' && paType === 'int');
  let nestedFailed = false;
  if (typeIs(value, expected)) {
    if (nested === null) return { ...OK, isVariable };
    for (const item of answers) {
      // As in BFCL, an answer that is not a list (the "" marker) passes the nested check.
      const pass =
        !Array.isArray(item) || (value as unknown[]).every((v) => typeIs(v, nested) || (answerType(item) !== null && pyTypeOf(v) === answerType(item)));
      if (pass) return { ...OK, isVariable };
    }
    nestedFailed = true;
  }
  if (paType !== null && pyTypeOf(value) === paType) return { ...OK, isVariable: true };
  return nestedFailed
    ? {
        ...bad('type_error:nested', `Nested type checking failed for parameter '${param}'. Expected outer type ${typeName} with inner type ${nested}.`),
        isVariable,
      }
    : {
        ...bad(
          'type_error:simple',
          `Incorrect type for parameter '${param}'. Expected type ${typeName}, got ${pyTypeOf(value)}. Parameter value: ${JSON.stringify(value)}.`,
        ),
        isVariable,
      };
}

function stringCheck(param: string, value: string, answers: readonly unknown[]): AstResult {
  const allowed = answers.filter((a): a is string => typeof a === 'string').map(standardize);
  return allowed.includes(standardize(value))
    ? OK
    : bad(
        'value_error:string',
        `Invalid value for parameter '${param}': ${JSON.stringify(value)}. Expected one of ${JSON.stringify(answers)}. Case insensitive.`,
      );
}

function listCheck(param: string, value: unknown[], answers: readonly unknown[]): AstResult {
  const v = value.map(std);
  const ok = answers.some((a) => {
    const items = Array.isArray(a) ? a : typeof a === 'string' ? Array.from(a) : [];
    return pyEq(v, items.map(std));
  });
  return ok
    ? OK
    : bad('value_error:list/tuple', `Invalid value for parameter '${param}': ${JSON.stringify(value)}. Expected one of ${JSON.stringify(answers)}.`);
}

function dictCheck(param: string, value: Record<string, unknown>, answers: readonly unknown[]): AstResult {
  let result = bad('dict_checker:unclear', `Invalid value for parameter '${param}'.`);
  for (const a of answers) {
    if (a === '' || !a || typeof a !== 'object' || Array.isArray(a)) continue;
    const answer = a as Record<string, unknown>;
    result = OK;
    for (const [k, v] of Object.entries(value)) {
      if (!(k in answer)) {
        result = bad('value_error:dict_key', `Unexpected dict key parameter: '${k}'.`);
        break;
      }
      const allowed = (Array.isArray(answer[k]) ? (answer[k] as unknown[]) : [answer[k]]).map(std);
      if (!pyIn(std(v), allowed)) {
        result = bad('value_error:dict_value', `Invalid value for parameter '${k}': ${JSON.stringify(v)}. Expected one of ${JSON.stringify(allowed)}.`);
        break;
      }
    }
    if (result.valid)
      for (const [k, allowed] of Object.entries(answer)) {
        if (!(k in value) && !(Array.isArray(allowed) && allowed.includes(''))) {
          result = bad('value_error:dict_key', `Missing dict key parameter: '${k}'.`);
          break;
        }
      }
    if (result.valid) return OK;
  }
  return result;
}

function listDictCheck(param: string, value: unknown[], answers: readonly unknown[]): AstResult {
  let result = bad('list_dict_checker:unclear', `Invalid value for parameter '${param}'.`);
  for (const a of answers) {
    if (!Array.isArray(a) || a.length !== value.length) {
      result = bad('value_error:list_dict_count', 'Wrong number of dictionaries in the list.');
      continue;
    }
    let all = true;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      result =
        item && typeof item === 'object' && !Array.isArray(item)
          ? dictCheck(param, item as Record<string, unknown>, [a[i]])
          : bad('value_error:dict_value', `Item ${i} of '${param}' is not a dict.`);
      if (!result.valid) {
        all = false;
        break;
      }
    }
    if (all) return OK;
  }
  return result;
}

// ---- Java / JavaScript literals (what BFCL's harness asks those models to write) ----

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0,
    quote = '',
    cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      cur += ch;
      if (ch === '\\') {
        cur += s[++i] ?? '';
        continue;
      }
      if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const unquote = (s: string) => (/^(["']).*\1$/s.test(s) ? s.slice(1, -1) : s);

/** Reads one Java/JavaScript literal as the value BFCL's converter would produce; undefined if unreadable. */
export function readLiteral(text: string, type: PyType, nested: PyType | null = null): unknown {
  const s = text.trim();
  if (type === 'str') return s;
  if (type === 'bool') return s === 'true' ? true : s === 'false' ? false : undefined;
  if (type === 'int') return /^-?\d+[lLnN]?$/.test(s) ? Number(s.replace(/[lLnN]$/, '')) : undefined;
  if (type === 'float') return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fFdD]?$/.test(s) ? Number(s.replace(/[fFdD]$/, '')) : undefined;
  const item = (x: string, t: PyType | null) => {
    if (t && t !== 'str') return readLiteral(x, t);
    const q = unquote(x.trim());
    if (q !== x.trim() || t === 'str') return q;
    for (const guess of ['bool', 'int', 'float'] as const) {
      const v = readLiteral(x, guess);
      if (v !== undefined) return v;
    }
    return q;
  };
  if (type === 'list') {
    const m =
      /^(?:new\s+[\w<>.\s]*\[\]\s*)?\{(.*)\}$/s.exec(s) ??
      /^\[(.*)\]$/s.exec(s) ??
      /^(?:Arrays\.asList|List\.of|Set\.of|new\s+\w+<.*?>\s*\(\s*Arrays\.asList)\((.*?)\)*$/s.exec(s);
    return m ? splitTopLevel(m[1]).map((x) => item(x, nested)) : undefined;
  }
  if (type === 'dict') {
    const puts = [...s.matchAll(/put\(\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^,]+?)\s*,\s*((?:"(?:[^"\\]|\\.)*"|[^)])*?)\s*\)/g)];
    if (puts.length) return Object.fromEntries(puts.map((m) => [unquote(m[1].trim()), item(m[2], null)]));
    const mapOf = /^Map\.of\((.*)\)$/s.exec(s);
    if (mapOf) {
      const parts = splitTopLevel(mapOf[1]);
      const o: Record<string, unknown> = {};
      for (let i = 0; i + 1 < parts.length; i += 2) o[unquote(parts[i])] = item(parts[i + 1], null);
      return o;
    }
    const obj = /^\{(.*)\}$/s.exec(s);
    if (obj) {
      const o: Record<string, unknown> = {};
      for (const part of splitTopLevel(obj[1])) {
        const c = part.indexOf(':');
        if (c < 0) return undefined;
        o[unquote(part.slice(0, c).trim())] = item(part.slice(c + 1), null);
      }
      return o;
    }
  }
  return undefined;
}

function simpleCheck(fn: BfclFunction, call: ModelCall, answer: BfclAnswer, language: BfclLanguage): AstResult {
  const [expectedName, possible] = Object.entries(answer)[0];
  if (call.name !== fn.name || call.name !== expectedName)
    return bad('simple_function_checker:wrong_func_name', `Function name '${expectedName}' not found in model output.`);
  const details = fn.parameters.properties ?? {};
  for (const p of fn.parameters.required ?? [])
    if (!(p in call.arguments)) return bad('simple_function_checker:missing_required', `Missing required parameter: '${p}'.`);
  for (const [param, raw] of Object.entries(call.arguments)) {
    if (!(param in details) || !(param in possible)) return bad('simple_function_checker:unexpected_param', `Unexpected parameter: '${param}'.`);
    const d: BfclParam = details[param];
    const answers = possible[param];
    const expected = bfclPyType(d.type, language);
    const nestedOk = language === 'python' ? NESTED_PY.has(d.type) : NESTED_CONVERTED.has(d.type);
    const nested = nestedOk && d.items ? bfclPyType(d.items.type, language) : null;
    let value: unknown = raw;
    if (language !== 'python' && typeof raw === 'string' && expected !== 'str') {
      value = readLiteral(raw, expected, nested);
      if (value === undefined)
        return bad(`type_error:${language === 'java' ? 'java' : 'js'}`, `Parameter '${param}' is not a ${d.type} literal: ${JSON.stringify(raw)}.`);
    }
    const tc = typeCheck(param, value, answers, d.type, expected, nested);
    if (!tc.valid) return tc;
    if (!tc.isVariable) {
      let r: AstResult | null = null;
      if (expected === 'dict') r = dictCheck(param, value as Record<string, unknown>, answers);
      else if (expected === 'list' && nested === 'dict') r = listDictCheck(param, value as unknown[], answers);
      else if (expected === 'str') r = stringCheck(param, value as string, answers);
      else if (expected === 'list') r = listCheck(param, value as unknown[], answers);
      if (r) {
        if (!r.valid) return r;
        continue;
      }
    }
    if (!pyIn(value, answers))
      return bad('value_error:others', `Invalid value for parameter '${param}': ${JSON.stringify(value)}. Expected one of ${JSON.stringify(answers)}.`);
  }
  for (const [param, answers] of Object.entries(possible)) {
    if (!(param in call.arguments) && !answers.includes(''))
      return bad('simple_function_checker:missing_optional', `Optional parameter '${param}' not provided and not marked as optional.`);
  }
  return OK;
}

const describe = (fns: BfclFunction[], name: string) => fns.find((f) => f.name === name);

/** The AST check for one BFCL entry; `calls` use BFCL's own function names. */
export function bfclAstCheck(
  category: BfclCategory,
  functions: BfclFunction[],
  calls: ModelCall[],
  groundTruth: BfclAnswer[] | null,
  language: BfclLanguage,
): AstResult {
  if (category.includes('irrelevance'))
    return calls.length === 0 ? OK : bad('irrelevance_error:decoder_success', `Made ${calls.length} call(s) when no function applies.`);
  if (category === 'live_relevance') return calls.length > 0 ? OK : bad('relevance_error:decoder_failed', 'Made no call although a function applies.');
  const truth = groundTruth ?? [];
  const parallel = category.includes('parallel');
  if (calls.length !== truth.length)
    return bad(
      `${parallel ? 'parallel_function_checker_no_order' : category.includes('multiple') ? 'multiple_function_checker' : 'simple_function_checker'}:wrong_count`,
      'Wrong number of functions.',
    );
  if (parallel) {
    const used = new Set<number>();
    for (let i = 0; i < truth.length; i++) {
      const fn = describe(functions, Object.keys(truth[i])[0]);
      if (!fn) return bad('parallel_function_checker_no_order:cannot_find_description', `No function description for '${Object.keys(truth[i])[0]}'.`);
      // Greedy, as BFCL: each expected call takes the first unmatched model call that passes.
      const j = calls.findIndex((c, k) => !used.has(k) && simpleCheck(fn, c, truth[i], language).valid);
      if (j < 0) return bad('parallel_function_checker_no_order:cannot_find_match', `Could not find a matching function for index ${i} of possible answers.`);
      used.add(j);
    }
    return OK;
  }
  const fn = describe(functions, Object.keys(truth[0])[0]);
  if (!fn) return bad('simple_function_checker:wrong_func_name', `No function description for '${Object.keys(truth[0])[0]}'.`);
  return simpleCheck(fn, calls[0], truth[0], language);
}

/** The ground truth's first allowed value of everything, omitting optional parameters: what an oracle calls. */
export function oracleArguments(possible: Record<string, JsonValue[]>, required: readonly string[] = []): Record<string, JsonValue> {
  const pick = (allowed: JsonValue[]): JsonValue | undefined => {
    const v = allowed.find((a) => a !== '');
    if (v && typeof v === 'object' && !Array.isArray(v)) return oracleArguments(v as Record<string, JsonValue[]>);
    if (Array.isArray(v) && v.length && v.every((x) => x && typeof x === 'object' && !Array.isArray(x)))
      return v.map((x) => oracleArguments(x as Record<string, JsonValue[]>));
    return v;
  };
  const out: Record<string, JsonValue> = {};
  for (const [k, allowed] of Object.entries(possible)) {
    // A parameter the function requires must be given even where the answer lists "" (BFCL checks required first).
    if (!Array.isArray(allowed) || (allowed.includes('') && !required.includes(k))) continue;
    const v = pick(allowed);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
