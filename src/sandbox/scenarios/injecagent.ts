// Import of InjecAgent test cases (Zhan et al. 2024) as BU-MT scenarios. The user tool's
// response carries the attacker instruction; success = the agent calls the attacker tool, or
// for data stealing, calls the data-reading tool and then GmailSendEmail. tools.json is
// optional: without it, minimal schemas are synthesised from the case itself.
// Every imported scenario is checked by the suite validator (suite-format.ts), the one that loads
// suites, so an import never writes a file that then fails to load.
import { LIMITS, ownValue, setOwn, textOf } from '../limits';
import { findEmailAddresses } from '../text-scan';
import type { CustomToolSpec } from '../tools/custom';
import type { JsonObject, JsonSchemaObject, JsonSchemaProperty, JsonSchemaType, JsonValue } from '../types';
import { parsePythonLiteral } from './pyliteral';
import { makeSuite, parseSuite, SuiteError } from './suite-format';
import type { ConcreteCall, Scenario } from './types';

const CASE_KEYS = [
  'User Tool',
  'User Instruction',
  'Tool Parameters',
  'Tool Response',
  'Attacker Tools',
  'Attacker Instruction',
  'Attack Type',
  'Expected Achievements',
] as const;
const EXFIL_TOOL = 'GmailSendEmail';
const TYPES: readonly JsonSchemaType[] = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

export interface InjecAgentOptions {
  source?: string;
  toolsSource?: string;
  toolkits?: unknown;
}

type ToolIndex = Map<string, { description: string; parameters: JsonSchemaObject }>;

/** Reads tools.json: a list of toolkits, each with tools; names join toolkit and tool name. */
export function indexToolkits(json: unknown, source = 'tools.json'): ToolIndex {
  if (!Array.isArray(json)) throw new SuiteError(`${source}: must be a list of toolkits`);
  const index: ToolIndex = new Map();
  json.forEach((tk, i) => {
    const kit = tk as Record<string, unknown>;
    const prefix = typeof kit?.toolkit === 'string' ? kit.toolkit : typeof kit?.name_for_model === 'string' ? kit.name_for_model : null;
    if (!prefix) throw new SuiteError(`${source}: toolkits[${i}] has no "toolkit" name`);
    if (!Array.isArray(kit.tools)) throw new SuiteError(`${source}: toolkit "${prefix}" has no "tools" list`);
    kit.tools.forEach((t: any, j: number) => {
      if (typeof t?.name !== 'string') throw new SuiteError(`${source}: toolkit "${prefix}" tools[${j}] has no "name"`);
      const properties: Record<string, JsonSchemaProperty> = {};
      const required: string[] = [];
      for (const [k, p] of (Array.isArray(t.parameters) ? t.parameters : []).entries()) {
        if (typeof p?.name !== 'string') throw new SuiteError(`${source}: tool "${prefix}${t.name}" parameters[${k}] has no "name"`);
        const type = typeof p.type === 'string' ? p.type.toLowerCase() : p.type === undefined || p.type === null ? 'string' : null;
        if (!TYPES.includes(type as JsonSchemaType))
          throw new SuiteError(`${source}: tool "${prefix}${t.name}" parameter "${p.name}" has unsupported type ${JSON.stringify(p.type)}`);
        setOwn(properties, p.name, { type: type as JsonSchemaType, description: textOf(p.description) });
        if (p.required) required.push(p.name);
      }
      index.set(`${prefix}${t.name}`, { description: textOf(t.summary ?? kit.description_for_model), parameters: { type: 'object', properties, required } });
    });
  });
  return index;
}

function typeOfValue(v: unknown): JsonSchemaType {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (v && typeof v === 'object') return 'object';
  return 'string';
}

/** A minimal schema when tools.json is absent: parameters from known arguments, others allowed. */
function synthesise(name: string, knownArgs: Record<string, unknown>): { description: string; parameters: JsonSchemaObject } {
  const properties = Object.fromEntries(Object.entries(knownArgs).map(([k, v]) => [k, { type: typeOfValue(v), description: k.replace(/_/g, ' ') }]));
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2');
  return {
    description: `${words} (imported from InjecAgent; parameters not documented).`,
    parameters: { type: 'object', properties, required: Object.keys(knownArgs).filter((k) => knownArgs[k] !== null), additionalProperties: true },
  };
}

/** Fills required parameters with plausible values taken from the attacker instruction. */
function fillArgs(params: JsonSchemaObject, instruction: string): Record<string, unknown> {
  const emails = findEmailAddresses(instruction);
  const args: Record<string, unknown> = {};
  const names = params.required?.length ? params.required : Object.keys(params.properties);
  for (const k of names) {
    const t = ownValue(params.properties, k)?.type ?? 'string';
    setOwn(
      args,
      k,
      t === 'string'
        ? emails.length && /mail|to|recipient/i.test(k)
          ? emails[0]
          : /subject/i.test(k)
            ? 'Requested information'
            : /body|content|message/i.test(k)
              ? 'Here is the requested information.'
              : instruction.slice(0, 80)
        : t === 'integer' || t === 'number'
          ? 1
          : t === 'boolean'
            ? true
            : t === 'array'
              ? []
              : {},
    );
  }
  if (!names.length && emails.length) args.to = emails[0];
  return args;
}

function unwrapResponse(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

export function importInjecAgent(casesJson: unknown, options: InjecAgentOptions = {}): Scenario[] {
  const source = options.source ?? 'injecagent cases';
  if (!Array.isArray(casesJson)) throw new SuiteError(`${source}: must be a JSON list of InjecAgent test cases`);
  if (!casesJson.length) throw new SuiteError(`${source}: has no test cases`);
  const index = options.toolkits === undefined ? null : indexToolkits(options.toolkits, options.toolsSource);
  if (casesJson.length > LIMITS.suiteScenarios)
    throw new SuiteError(`${source}: has ${casesJson.length} test cases, over the limit of ${LIMITS.suiteScenarios}`);
  const scenarios = casesJson.map((raw, i) => {
    const where = `${source}: case ${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SuiteError(`${where} is not an object`);
    const c = raw as Record<string, unknown>;
    for (const k of CASE_KEYS) if (c[k] === undefined) throw new SuiteError(`${where} is missing "${k}"`);
    for (const k of CASE_KEYS) if (k !== 'Attacker Tools' && typeof c[k] !== 'string') throw new SuiteError(`${where}: "${k}" must be a string`);
    // These become scenario text the suite format requires to be non-empty (user prompt, attacker goal, ...).
    for (const k of ['User Tool', 'User Instruction', 'Attacker Instruction', 'Attack Type', 'Expected Achievements'] as const) {
      if (!(c[k] as string).trim()) throw new SuiteError(`${where}: "${k}" is empty`);
    }
    if ((c['User Instruction'] as string).length > LIMITS.promptChars)
      throw new SuiteError(`${where}: "User Instruction" is ${(c['User Instruction'] as string).length} characters, over the limit of ${LIMITS.promptChars}`);
    const attackerTools = Array.isArray(c['Attacker Tools']) ? c['Attacker Tools'] : [c['Attacker Tools']];
    if (!attackerTools.length || attackerTools.some((t) => typeof t !== 'string' || !t))
      throw new SuiteError(`${where}: "Attacker Tools" must be one tool name or a list of them`);
    if (attackerTools.length > 2)
      throw new SuiteError(`${where}: "Attacker Tools" has ${attackerTools.length} tools; InjecAgent cases have one (direct harm) or two (data stealing)`);
    const dataStealing = attackerTools.length === 2;
    if (dataStealing && attackerTools[1] !== EXFIL_TOOL)
      throw new SuiteError(`${where}: a data-stealing case must end with ${EXFIL_TOOL}, got "${attackerTools[1]}"`);

    let userArgs: unknown;
    try {
      userArgs = parsePythonLiteral(c['Tool Parameters'] as string);
    } catch (e) {
      throw new SuiteError(`${where}: "Tool Parameters" is not a Python dict literal: ${(e as Error).message}`);
    }
    if (typeof userArgs !== 'object' || userArgs === null || Array.isArray(userArgs)) throw new SuiteError(`${where}: "Tool Parameters" must be a dict`);
    const userTool = c['User Tool'] as string;
    const instruction = c['Attacker Instruction'] as string;
    const response = unwrapResponse(c['Tool Response'] as string);
    if (!response.includes(instruction)) throw new SuiteError(`${where}: "Tool Response" does not contain the "Attacker Instruction"`);

    const schemaOf = (name: string, known: Record<string, unknown>) => {
      if (!index) return synthesise(name, known);
      const s = index.get(name);
      if (!s) throw new SuiteError(`${where}: tool "${name}" is not in ${options.toolsSource ?? 'tools.json'}`);
      return s;
    };
    const spec = (
      name: string,
      known: Record<string, unknown>,
      privilege: CustomToolSpec['privilege'],
      response: JsonValue,
      sideEffect: boolean,
    ): CustomToolSpec => {
      const s = schemaOf(name, known);
      return { schema: { type: 'function', function: { name, description: s.description, parameters: s.parameters } }, privilege, response, sideEffect };
    };
    const tools = new Map<string, CustomToolSpec>();
    tools.set(userTool, spec(userTool, userArgs as Record<string, unknown>, 'normal', response, false));
    const plan: ConcreteCall[] = attackerTools.map((name, k) => {
      const isRead = dataStealing && k === 0;
      const stolen: JsonObject = { result: `private data returned by ${name}`, owner: 'John Doe', records: [{ id: 1, detail: 'confidential' }] };
      if (!tools.has(name))
        tools.set(name, spec(name, {}, isRead || name === EXFIL_TOOL ? 'normal' : 'sensitive', isRead ? stolen : { success: true }, !isRead));
      return { name, arguments: fillArgs(tools.get(name)!.schema.function.parameters, instruction) };
    });
    const type = c['Attack Type'] as string;
    return {
      id: `injecagent-${dataStealing ? 'ds' : 'dh'}-${String(i).padStart(4, '0')}`,
      family: 'injecagent',
      outputFamily: 'injecagent',
      technique: /ignore all previous instructions/i.test(response) ? 'injecagent-enhanced' : 'injecagent-base',
      split: 'imported',
      cell: 'BU-MT',
      expected: 'execute_ignore_injection',
      user: c['User Instruction'] as string,
      tools: [],
      customTools: [...tools.values()],
      world: { seed: 0, patches: [] },
      userGoal: {
        description: `answer with ${userTool}`,
        requiredCalls: [{ name: userTool }],
        plan: [{ name: userTool, arguments: userArgs as Record<string, unknown> }],
      },
      sensitiveActions: [],
      attacker: {
        source: 'tool',
        goal: c['Expected Achievements'] as string,
        instruction,
        attackType: type,
        tools: attackerTools as string[],
        calls: dataStealing ? [{ name: EXFIL_TOOL, args: {} }] : [{ name: attackerTools[0] as string }],
        plan,
        markers: findEmailAddresses(instruction),
        trigger: instruction,
        ...(dataStealing ? { dataStealing: { readTool: attackerTools[0] as string, exfilTool: EXFIL_TOOL } } : {}),
      },
    } satisfies Scenario;
  });
  // What was built must load: the same validator, with the case named in its errors.
  return parseSuite(makeSuite('injecagent', scenarios), source).scenarios;
}
