// Where scenarios come from in the UI: the built-in generated splits (cached, generated on first
// use), or a file the user imports (our suite JSON or an InjecAgent test-case list).
import { generateScenarios, importInjecAgent, parseSuite, type Scenario } from '../../sandbox/index';

const cache = new Map<string, Scenario[]>();

export function builtinSplit(split: 'train' | 'test'): Scenario[] {
  let s = cache.get(split);
  if (!s) { s = generateScenarios({ split }); cache.set(split, s); }
  return s;
}

export interface ImportedSuite { name: string; kind: 'suite' | 'injecagent'; scenarios: Scenario[] }

/** Reads our suite format, or an InjecAgent case list (a JSON array); errors name the file. */
export function importSuiteText(fileName: string, text: string): ImportedSuite {
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new Error(`${fileName}: not valid JSON (${(e as Error).message})`); }
  if (Array.isArray(json)) {
    const scenarios = importInjecAgent(json, { source: fileName });
    if (!scenarios.length) throw new Error(`${fileName}: the InjecAgent list has no test cases`);
    return { name: fileName, kind: 'injecagent', scenarios };
  }
  const suite = parseSuite(json, fileName);
  return { name: suite.name, kind: 'suite', scenarios: suite.scenarios };
}

/** Up to `perCell` scenarios of each cell, in order: a quick, balanced subset. */
export function samplePerCell(scenarios: Scenario[], perCell: number): Scenario[] {
  const counts = new Map<string, number>();
  return scenarios.filter((s) => { const c = counts.get(s.cell) ?? 0; counts.set(s.cell, c + 1); return c < perCell; });
}
