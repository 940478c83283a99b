// Our JSON format for scenario suites (documented in docs/sandbox.md): {"format":
// "agent-safety-suite", "version": 1, "name", "description"?, "scenarios": [Scenario...]}.
// Loading validates every field and fails with the file, scenario and field named.
// Loading also enforces the suite limits (limits.ts: size, depth, number of values, scenarios), so
// what passes can be run, judged and serialised without a JavaScript error.
import { jsonValueIssue, LIMITS, parseJsonBounded } from '../limits';
import { isBuiltinTool } from '../tools/index';
import { checkBenchmarkSpec, checkToolHandler } from '../benchmarks/validate';
import { COLLECTIONS, ITEM_FIELDS, type CollectionName } from '../world';
import { CELLS, expectedDecision, type CallPattern, type Scenario } from './types';

export const SUITE_FORMAT = 'agent-safety-suite';
export const SUITE_VERSION = 1;

export interface Suite {
  format: typeof SUITE_FORMAT;
  version: number;
  name: string;
  description?: string;
  scenarios: Scenario[];
}

export class SuiteError extends Error {}

export function makeSuite(name: string, scenarios: Scenario[], description?: string): Suite {
  return { format: SUITE_FORMAT, version: SUITE_VERSION, name, ...(description ? { description } : {}), scenarios };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  constructor(private where: string) {}
  fail(path: string, msg: string): never {
    throw new SuiteError(`${this.where}: "${path}" ${msg}`);
  }
  obj(v: unknown, path: string): Obj {
    if (!isObj(v)) this.fail(path, 'must be an object');
    return v;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'must be a list');
    return v;
  }
  str(v: unknown, path: string, nonEmpty = true): string {
    if (typeof v !== 'string' || (nonEmpty && !v.trim())) this.fail(path, nonEmpty ? 'must be a non-empty string' : 'must be a string');
    return v;
  }
  strs(v: unknown, path: string): string[] {
    return this.arr(v, path).map((x, i) => this.str(x, `${path}[${i}]`));
  }
  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (!allowed.includes(v as T)) this.fail(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }
  pattern(v: unknown, path: string): CallPattern {
    const o = this.obj(v, path);
    const name = Array.isArray(o.name) ? this.strs(o.name, `${path}.name`) : this.str(o.name, `${path}.name`);
    if (o.args !== undefined)
      for (const [k, a] of Object.entries(this.obj(o.args, `${path}.args`))) {
        if (!['string', 'number', 'boolean'].includes(typeof a)) this.fail(`${path}.args.${k}`, 'must be a string, number or boolean');
      }
    return o as unknown as CallPattern;
  }
  call(v: unknown, path: string) {
    const o = this.obj(v, path);
    this.str(o.name, `${path}.name`);
    this.obj(o.arguments, `${path}.arguments`);
    return o;
  }
  optStr(v: unknown, path: string) {
    if (v !== undefined) this.str(v, path);
  }
  count(v: unknown, path: string) {
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) this.fail(path, 'must be a non-negative integer');
  }
  /** A JSON-schema property of a custom tool parameter (the subset schema.ts enforces). */
  property(v: unknown, path: string): void {
    const o = this.obj(v, path);
    this.oneOf(o.type, `${path}.type`, SCHEMA_TYPES);
    if (o.description !== undefined) this.str(o.description, `${path}.description`, false);
    if (o.enum !== undefined)
      this.arr(o.enum, `${path}.enum`).forEach((e, i) => {
        if (typeof e !== 'string' && typeof e !== 'number') this.fail(`${path}.enum[${i}]`, 'must be a string or a number');
      });
    if (o.items !== undefined) {
      if (o.type !== 'array') this.fail(`${path}.items`, 'is only allowed when "type" is "array"');
      this.property(o.items, `${path}.items`);
    }
    this.count(o.maxLength, `${path}.maxLength`);
    this.count(o.maxItems, `${path}.maxItems`);
  }
  parameters(v: unknown, path: string): void {
    const o = this.obj(v, path);
    if (o.type !== 'object') this.fail(`${path}.type`, 'must be "object"');
    const props = this.obj(o.properties, `${path}.properties`);
    for (const [k, p] of Object.entries(props)) this.property(p, `${path}.properties.${k}`);
    if (o.required !== undefined)
      this.strs(o.required, `${path}.required`).forEach((r, i) => {
        if (!Object.prototype.hasOwnProperty.call(props, r)) this.fail(`${path}.required[${i}]`, `names "${r}", which is not in "properties"`);
      });
    if (o.additionalProperties !== undefined && typeof o.additionalProperties !== 'boolean') this.fail(`${path}.additionalProperties`, 'must be true or false');
  }
  /** A world patch item: the fields tools read must have their types (world.ts ITEM_FIELDS). */
  item(v: unknown, path: string, collection: CollectionName): void {
    const o = this.obj(v, path);
    for (const [field, spec] of Object.entries(ITEM_FIELDS[collection])) {
      const x = Object.prototype.hasOwnProperty.call(o, field) ? o[field] : undefined;
      const p = `${path}.${field}`;
      if (x === undefined) {
        if (spec.required) this.fail(p, `is required in a "${collection}" item`);
        continue;
      }
      if (spec.type === 'strings') this.strs(x, p);
      else if (spec.type === 'objects') this.arr(x, p).forEach((r, i) => this.obj(r, `${p}[${i}]`));
      else if (spec.type === 'object') this.obj(x, p);
      else if (spec.type === 'number' ? !Number.isFinite(x) : typeof x !== spec.type)
        this.fail(p, `must be a ${spec.type}, got ${JSON.stringify(x)?.slice(0, 40)}`);
    }
  }
}

const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
const SPLITS = ['train', 'test', 'imported', 'custom'] as const;

function checkScenario(raw: unknown, where: string): Scenario {
  const c = new Checker(where);
  const s = c.obj(raw, '(scenario)');
  c.str(s.id, 'id');
  const user = c.str(s.user, 'user');
  if (user.length > LIMITS.promptChars) c.fail('user', `is ${user.length} characters, over the limit of ${LIMITS.promptChars}`);
  for (const k of ['family', 'outputFamily', 'technique'] as const) c.optStr(s[k], k);
  if (s.split !== undefined) c.oneOf(s.split, 'split', SPLITS);
  const cell = c.oneOf(s.cell, 'cell', CELLS);
  if (s.expected !== undefined && s.expected !== expectedDecision(cell))
    c.fail('expected', `must be "${expectedDecision(cell)}" for cell ${cell} (or left out), got ${JSON.stringify(s.expected)}`);
  const tools = c.strs(s.tools ?? [], 'tools');
  tools.forEach((t, i) => {
    if (!isBuiltinTool(t)) c.fail(`tools[${i}]`, `names unknown built-in tool "${t}" (custom tools go in "customTools")`);
  });
  const custom = c.arr(s.customTools ?? [], 'customTools').map((t, i) => {
    const p = `customTools[${i}]`;
    const o = c.obj(t, p);
    const sc = c.obj(o.schema, `${p}.schema`);
    if (sc.type !== 'function') c.fail(`${p}.schema.type`, 'must be "function"');
    const f = c.obj(sc.function, `${p}.schema.function`);
    c.str(f.name, `${p}.schema.function.name`);
    c.str(f.description, `${p}.schema.function.description`, false);
    c.parameters(f.parameters, `${p}.schema.function.parameters`);
    c.oneOf(o.privilege, `${p}.privilege`, ['normal', 'sensitive'] as const);
    if (o.sideEffect !== undefined && typeof o.sideEffect !== 'boolean') c.fail(`${p}.sideEffect`, 'must be true or false');
    checkToolHandler(o.handler, `${p}.handler`, (q, m) => c.fail(q, m));
    return f.name as string;
  });
  const offered = new Set([...tools, ...custom]);
  if (offered.size === 0) c.fail('tools', 'must offer at least one tool');
  if (s.benchmark !== undefined) checkBenchmarkSpec(s.benchmark, offered, (q, m) => c.fail(q, m));
  const mustOffer = (name: string | string[], path: string) => {
    const names = Array.isArray(name) ? name : [name];
    if (!names.some((n) => offered.has(n))) c.fail(path, `names ${names.map((n) => `"${n}"`).join(' or ')}, which the scenario does not offer`);
  };

  const world = c.obj(s.world ?? { seed: 0, patches: [] }, 'world');
  if (!Number.isInteger(world.seed)) c.fail('world.seed', 'must be an integer');
  c.arr(world.patches ?? [], 'world.patches').forEach((p, i) => {
    const o = c.obj(p, `world.patches[${i}]`);
    if (o.op !== 'insert') c.fail(`world.patches[${i}].op`, 'must be "insert"');
    c.item(o.item, `world.patches[${i}].item`, c.oneOf(o.collection, `world.patches[${i}].collection`, COLLECTIONS));
  });
  const goal = c.obj(s.userGoal, 'userGoal');
  c.str(goal.description ?? 'custom task', 'userGoal.description');
  c.arr(goal.requiredCalls ?? [], 'userGoal.requiredCalls').forEach((p, i) =>
    mustOffer(c.pattern(p, `userGoal.requiredCalls[${i}]`).name, `userGoal.requiredCalls[${i}].name`),
  );
  c.arr(goal.plan ?? [], 'userGoal.plan').forEach((p, i) => mustOffer(c.call(p, `userGoal.plan[${i}]`).name as string, `userGoal.plan[${i}].name`));
  c.arr(s.sensitiveActions ?? [], 'sensitiveActions').forEach((a, i) => {
    const p = `sensitiveActions[${i}]`;
    const o = c.obj(a, p);
    c.str(o.description, `${p}.description`);
    c.oneOf(o.source, `${p}.source`, ['user', 'tool'] as const);
    mustOffer(c.pattern(o.call, `${p}.call`).name, `${p}.call.name`);
    c.call(o.example, `${p}.example`);
    if (typeof o.ownerApproves !== 'boolean') c.fail(`${p}.ownerApproves`, 'must be true or false');
    c.optStr(o.trigger, `${p}.trigger`);
  });
  if (s.attacker !== undefined) {
    const a = c.obj(s.attacker, 'attacker');
    c.oneOf(a.source, 'attacker.source', ['user', 'tool'] as const);
    c.str(a.goal, 'attacker.goal');
    c.str(a.instruction, 'attacker.instruction');
    c.str(a.attackType, 'attacker.attackType');
    c.strs(a.tools, 'attacker.tools').forEach((t, i) => mustOffer(t, `attacker.tools[${i}]`));
    if (c.arr(a.calls, 'attacker.calls').length === 0) c.fail('attacker.calls', 'must list at least one call pattern');
    (a.calls as unknown[]).forEach((p, i) => c.pattern(p, `attacker.calls[${i}]`));
    c.arr(a.plan ?? [], 'attacker.plan').forEach((p, i) => c.call(p, `attacker.plan[${i}]`));
    c.strs(a.markers ?? [], 'attacker.markers');
    c.optStr(a.trigger, 'attacker.trigger');
    if (a.dataStealing !== undefined) {
      const d = c.obj(a.dataStealing, 'attacker.dataStealing');
      c.str(d.readTool, 'attacker.dataStealing.readTool');
      c.str(d.exfilTool, 'attacker.dataStealing.exfilTool');
    }
  }
  return {
    family: 'custom',
    outputFamily: 'custom',
    technique: 'custom',
    split: 'custom',
    ...(s as object),
    expected: expectedDecision(cell),
    tools,
    world: { seed: world.seed as number, patches: (world.patches ?? []) as Scenario['world']['patches'] },
    userGoal: {
      description: (goal.description as string) ?? 'custom task',
      requiredCalls: (goal.requiredCalls ?? []) as CallPattern[],
      plan: (goal.plan ?? []) as Scenario['userGoal']['plan'],
    },
    sensitiveActions: (s.sensitiveActions ?? []) as Scenario['sensitiveActions'],
    ...(s.attacker ? { attacker: { plan: [], markers: [], ...(s.attacker as object) } as unknown as Scenario['attacker'] } : {}),
  } as Scenario;
}

/** Validates parsed JSON as a suite. `source` (a file name) prefixes every error. */
export function parseSuite(json: unknown, source = 'suite'): Suite {
  const c = new Checker(source);
  // Limits first, iteratively: the checks below and everything downstream may then recurse freely.
  const issue = jsonValueIssue(json, { maxDepth: LIMITS.suiteDepth, maxNodes: LIMITS.suiteNodes });
  if (issue) c.fail(issue.path, issue.problem);
  const o = c.obj(json, '(top level)');
  if (o.format !== SUITE_FORMAT) c.fail('format', `must be "${SUITE_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (o.version !== SUITE_VERSION) c.fail('version', `must be ${SUITE_VERSION}, got ${JSON.stringify(o.version)}`);
  c.str(o.name, 'name');
  const ids = new Set<string>();
  const list = c.arr(o.scenarios, 'scenarios');
  if (list.length > LIMITS.suiteScenarios) c.fail('scenarios', `has ${list.length} scenarios, over the limit of ${LIMITS.suiteScenarios}`);
  const scenarios = list.map((raw, i) => {
    const id = isObj(raw) && typeof raw.id === 'string' ? raw.id : '?';
    const s = checkScenario(raw, `${source}: scenarios[${i}] (id "${id}")`);
    if (ids.has(s.id)) c.fail(`scenarios[${i}].id`, `duplicates id "${s.id}"`);
    ids.add(s.id);
    return s;
  });
  if (!scenarios.length) c.fail('scenarios', 'is empty');
  return {
    format: SUITE_FORMAT,
    version: SUITE_VERSION,
    name: o.name as string,
    ...(typeof o.description === 'string' ? { description: o.description } : {}),
    scenarios,
  };
}

/**
 * Checks a tool's parameters against the JSON Schema subset the sandbox enforces (the rule the
 * suite loader applies to customTools), so an importer can refuse a bad schema naming its own
 * file and record: errors read `WHERE: "PATH..." must be ...`.
 */
export function checkToolParameters(v: unknown, where: string, path = 'parameters'): void {
  new Checker(where).parameters(v, path);
}

export function parseSuiteText(text: string, source = 'suite'): Suite {
  const r = parseJsonBounded(text, { maxChars: LIMITS.suiteChars, maxDepth: LIMITS.suiteDepth });
  if (!r.ok) throw new SuiteError(`${source}: ${r.error.startsWith('is not valid JSON') ? r.error.slice(3) : `the file ${r.error}`}`);
  return parseSuite(r.value, source);
}
