// Import of Agent-SafetyBench (Zhang et al., 2024): cases (instruction, environments with tool
// schemas, optional prior dialogue, fulfillable) with the environments' tool schemas
// (environments/NAME.json, OpenAI function format). Its environments are Python simulators we do
// not have, so tools answer with a fixed note and every call is logged; its official judge is a
// fine-tuned model (ShieldAgent), so episodes are left unjudged for a model judge, and the report
// carries only a clearly labelled rule-based approximation (see judge.ts and docs/sandbox.md).
import type { CustomToolSpec } from '../tools/custom';
import type { JsonSchemaObject } from '../types';
import type { Scenario } from '../scenarios/types';
import { checkToolParameters } from '../scenarios/suite-format';
import { BenchmarkImportError, RecordChecker, baseName, isObj, parseJsonFile, readRecords, toolNameFor, type SourceFile } from './common';
import type { SafetyBenchSpec } from './types';

export const SAFETYBENCH_TOOL_NOTE = 'Recorded. (Agent-SafetyBench environments are not simulated here; the call is kept for the judge.)';

function toolIndex(files: SourceFile[]): Map<string, Map<string, { description: string; parameters: JsonSchemaObject }>> {
  const index = new Map<string, Map<string, { description: string; parameters: JsonSchemaObject }>>();
  for (const f of files) {
    const json = parseJsonFile(f);
    if (!Array.isArray(json)) throw new BenchmarkImportError(`${f.name}: an environment file must be a list of tool schemas`);
    const tools = new Map<string, { description: string; parameters: JsonSchemaObject }>();
    json.forEach((t, i) => {
      const c = new RecordChecker(`${f.name}: tool ${i}`);
      const o = c.obj(t, '(tool)');
      const name = c.str(o.name, 'name');
      const p = c.obj(o.parameters ?? { type: 'object', properties: {} }, 'parameters');
      const props = c.obj(p.properties ?? {}, 'parameters.properties');
      const required = c.strs(p.required ?? [], 'parameters.required').filter((r) => r in props);
      const parameters: JsonSchemaObject = { type: 'object', properties: props as JsonSchemaObject['properties'], required };
      checkToolParameters(parameters, `${f.name}: tool ${i} ("${name}")`);
      tools.set(name, { description: String(o.description ?? ''), parameters });
    });
    index.set(baseName(f.name), tools);
  }
  return index;
}

/** Prior dialogue (the case's `dialog` before the last user turn) as text the user message carries. */
function dialogText(c: RecordChecker, dialog: unknown): string {
  const turns = c.arr(dialog, 'dialog');
  return turns
    .map((m, i) => {
      const o = c.obj(m, `dialog[${i}]`);
      const calls = Array.isArray(o.tool_calls)
        ? o.tool_calls
            .map((t) => {
              const f = isObj(t) && isObj(t.function) ? t.function : {};
              return `${String(f.name)}(${String(f.arguments ?? '')})`;
            })
            .join('; ')
        : '';
      return `[${String(o.role)}${o.name ? ` ${String(o.name)}` : ''}] ${calls ? `calls ${calls}` : String(o.content ?? '')}`;
    })
    .join('\n');
}

export function importSafetyBench(files: SourceFile[]): { scenarios: Scenario[]; skipped: string[] } {
  const envFiles = files.filter((f) => /(^|[\\/])environments[\\/][^\\/]+\.json$/i.test(f.name));
  const caseFiles = files.filter((f) => !envFiles.includes(f) && /\.jsonl?$/i.test(f.name));
  if (!caseFiles.length) throw new BenchmarkImportError('Agent-SafetyBench: no case file (released_data.json) among the files');
  const index = toolIndex(envFiles);
  const scenarios: Scenario[] = [];
  const skipped: string[] = [];
  const ids = new Set<number>();
  for (const file of caseFiles) {
    for (const r of readRecords(file)) {
      const c = new RecordChecker(r.where);
      const o = c.obj(r.value, '(record)');
      if (!Number.isSafeInteger(o.id)) c.fail('id', 'must be an integer');
      const id = o.id as number;
      c.where = `${r.where} (id ${id})`;
      if (ids.has(id)) c.fail('id', 'appears twice');
      ids.add(id);
      const instruction = c.str(o.instruction, 'instruction');
      if (o.fulfillable !== 0 && o.fulfillable !== 1) c.fail('fulfillable', 'must be 0 or 1');
      const envs = c.arr(o.environments, 'environments').map((e, i) => {
        const x = c.obj(e, `environments[${i}]`);
        return { name: c.str(x.name ?? '', `environments[${i}].name`, false), tools: c.strs(x.tools ?? [], `environments[${i}].tools`) };
      });
      const taken = new Set<string>();
      const customTools: CustomToolSpec[] = [];
      envs.forEach((e, i) =>
        e.tools.forEach((t, j) => {
          const schema =
            index.get(e.name)?.get(t) ??
            c.fail(
              `environments[${i}].tools[${j}]`,
              `names "${t}", which ${index.has(e.name) ? `environments/${e.name}.json does not define` : `has no environments/${e.name || '(unnamed)'}.json among the files`}`,
            );
          customTools.push({
            schema: { type: 'function', function: { name: toolNameFor(t, taken), description: schema.description, parameters: schema.parameters } },
            privilege: 'normal',
            response: SAFETYBENCH_TOOL_NOTE,
            sideEffect: true,
          });
        }),
      );
      if (!customTools.length) {
        skipped.push(`case ${id} (no tools: our episodes need at least one)`);
        continue;
      }
      const dialog = o.dialog === undefined ? '' : dialogText(c, o.dialog);
      const spec: SafetyBenchSpec = {
        kind: 'agent-safetybench',
        id,
        risks: o.risks === undefined ? [] : c.strs(o.risks, 'risks'),
        failureModes: String(o.failure_modes ?? ''),
        fulfillable: o.fulfillable as 0 | 1,
        environments: envs.map((e) => e.name),
      };
      const unfulfillable = o.fulfillable === 0;
      scenarios.push({
        id: `agent-safetybench-${id}`,
        family: 'agent-safetybench',
        outputFamily: 'agent-safetybench',
        technique: spec.risks[0] ?? 'none',
        split: 'imported',
        cell: unfulfillable ? 'MU-BT' : 'BU-BT',
        expected: unfulfillable ? 'refuse' : 'execute',
        user: dialog ? `${instruction}\n\nEarlier in this conversation:\n${dialog}` : instruction,
        tools: [],
        customTools,
        world: { seed: 0, patches: [] },
        userGoal: { description: 'Agent-SafetyBench case (judged by a model judge)', requiredCalls: [], plan: [] },
        sensitiveActions: [],
        benchmark: spec,
      });
    }
  }
  if (!scenarios.length) throw new BenchmarkImportError('Agent-SafetyBench: no case with tools to import');
  return { scenarios, skipped };
}
