// Validation of the `benchmark` field of a scenario read from a suite file (suite-format.ts calls
// it), so a hand-edited or truncated import fails at load time, naming the field, instead of
// mis-scoring later.
import { validateDojoCheck } from './agentdojo-checks';
import { isToolHandler } from './agentdojo-tools';
import { ASB_SETTINGS, ASB_VARIANTS, BFCL_CATEGORIES, BENCHMARK_KINDS } from './types';

type Fail = (path: string, msg: string) => never;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkToolHandler(v: unknown, path: string, fail: Fail): void {
  if (v !== undefined && !isToolHandler(v)) fail(path, `names unknown tool handler ${JSON.stringify(v)} (known: agentdojo-banking/<tool>)`);
}

/** Checks a scenario's `benchmark` spec; `offered` are the scenario's tool names. */
export function checkBenchmarkSpec(v: unknown, offered: ReadonlySet<string>, fail: Fail): void {
  const p = 'benchmark';
  if (!isObj(v)) fail(p, 'must be an object');
  const str = (x: unknown, f: string) => {
    if (typeof x !== 'string' || !x) fail(`${p}.${f}`, 'must be a non-empty string');
  };
  const strs = (x: unknown, f: string) => {
    if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) fail(`${p}.${f}`, 'must be a list of strings');
    return x as string[];
  };
  if (!BENCHMARK_KINDS.includes(v.kind as never)) fail(`${p}.kind`, `must be one of ${BENCHMARK_KINDS.join(', ')}, got ${JSON.stringify(v.kind)}`);
  if (v.kind === 'bfcl') {
    str(v.id, 'id');
    if (!BFCL_CATEGORIES.includes(v.category as never)) fail(`${p}.category`, `must be one of ${BFCL_CATEGORIES.join(', ')}`);
    if (!['python', 'java', 'javascript'].includes(v.language as string)) fail(`${p}.language`, 'must be python, java or javascript');
    if (!Array.isArray(v.functions) || !v.functions.length) fail(`${p}.functions`, 'must be a non-empty list');
    const names = new Set<string>();
    v.functions.forEach((f, i) => {
      if (!isObj(f) || typeof f.name !== 'string' || !isObj(f.parameters) || !isObj(f.parameters.properties))
        fail(`${p}.functions[${i}]`, 'must be {name, parameters: {properties}}');
      for (const [k, q] of Object.entries(f.parameters.properties as Obj))
        if (!isObj(q) || typeof q.type !== 'string') fail(`${p}.functions[${i}].parameters.properties.${k}.type`, 'must be a string');
      names.add(f.name);
    });
    if (!isObj(v.toolNames)) fail(`${p}.toolNames`, 'must map tool names to function names');
    for (const [t, f] of Object.entries(v.toolNames)) {
      if (!offered.has(t)) fail(`${p}.toolNames.${t}`, 'is not a tool the scenario offers');
      if (typeof f !== 'string' || !names.has(f)) fail(`${p}.toolNames.${t}`, `must name one of the functions, got ${JSON.stringify(f)}`);
    }
    const needs = !String(v.category).includes('relevance');
    if (v.groundTruth === null) {
      if (needs) fail(`${p}.groundTruth`, `is required for category ${String(v.category)}`);
      return;
    }
    if (!Array.isArray(v.groundTruth)) fail(`${p}.groundTruth`, 'must be a list or null');
    v.groundTruth.forEach((a, i) => {
      if (!isObj(a) || Object.keys(a).length !== 1) fail(`${p}.groundTruth[${i}]`, 'must name exactly one function');
      const [n, params] = Object.entries(a)[0];
      if (!names.has(n)) fail(`${p}.groundTruth[${i}]`, `names "${n}", which is not among the functions`);
      if (!isObj(params) || !Object.values(params).every(Array.isArray))
        fail(`${p}.groundTruth[${i}].${n}`, 'must map each parameter to a list of allowed values');
    });
    return;
  }
  if (v.kind === 'asb') {
    str(v.agent, 'agent');
    str(v.task, 'task');
    if (!ASB_SETTINGS.includes(v.setting as never)) fail(`${p}.setting`, `must be one of ${ASB_SETTINGS.join(', ')}`);
    const clean = v.setting === 'clean';
    if (clean ? v.variant !== null : !ASB_VARIANTS.includes(v.variant as never))
      fail(`${p}.variant`, clean ? 'must be null in the clean setting' : `must be one of ${ASB_VARIANTS.join(', ')}`);
    if (clean ? v.attackerTool !== null : typeof v.attackerTool !== 'string' || !offered.has(v.attackerTool))
      fail(`${p}.attackerTool`, clean ? 'must be null in the clean setting' : 'must name a tool the scenario offers');
    strs(v.normalTools, 'normalTools').forEach((t, i) => {
      if (!offered.has(t)) fail(`${p}.normalTools[${i}]`, `names "${t}", which the scenario does not offer`);
    });
    if (v.aggressive !== null && typeof v.aggressive !== 'boolean') fail(`${p}.aggressive`, 'must be true, false or null');
    return;
  }
  if (v.kind === 'agent-safetybench') {
    if (!Number.isSafeInteger(v.id)) fail(`${p}.id`, 'must be an integer');
    if (v.fulfillable !== 0 && v.fulfillable !== 1) fail(`${p}.fulfillable`, 'must be 0 or 1');
    strs(v.risks, 'risks');
    strs(v.environments, 'environments');
    if (typeof v.failureModes !== 'string') fail(`${p}.failureModes`, 'must be a string');
    return;
  }
  str(v.userTask, 'userTask');
  if (v.suite !== 'banking') fail(`${p}.suite`, 'must be "banking"');
  if (v.injectionTask !== null) str(v.injectionTask, 'injectionTask');
  strs(v.vectors, 'vectors');
  validateDojoCheck(v.utility, `${p}.utility`, fail);
  if (v.security !== null) validateDojoCheck(v.security, `${p}.security`, fail);
  if ((v.injectionTask === null) !== (v.security === null)) fail(`${p}.security`, 'must be given exactly when injectionTask is');
}
