// Where scenarios come from in the UI: the built-in generated splits (cached, generated on first
// use), or files the user imports (our suite JSON, an InjecAgent test-case list, or a benchmark's
// released files: BFCL, Agent Security Bench, AgentDojo banking).
import { generateScenarios, importInjecAgent, LIMITS, parseJsonBounded, parseSuite, type Scenario } from '../../sandbox/index';
import { detectBenchmark, importBenchmark } from '../../sandbox/benchmarks/import';
import type { SourceFile } from '../../sandbox/benchmarks/common';
import type { BenchmarkKind } from '../../sandbox/benchmarks/types';

const cache = new Map<string, Scenario[]>();

export function builtinSplit(split: 'train' | 'test'): Scenario[] {
  let s = cache.get(split);
  if (!s) {
    s = generateScenarios({ split });
    cache.set(split, s);
  }
  return s;
}

export interface ImportedSuite {
  name: string;
  kind: 'suite' | 'injecagent' | BenchmarkKind;
  scenarios: Scenario[];
  skipped?: string[];
}

/** Reads our suite format, or an InjecAgent case list (a JSON array); errors name the file. */
export function importSuiteText(fileName: string, text: string): ImportedSuite {
  // Size and depth are checked on the text before anything is built (docs/limits.md).
  const r = parseJsonBounded(text, { maxChars: LIMITS.suiteChars, maxDepth: LIMITS.suiteDepth });
  if (!r.ok) throw new Error(`${fileName}: ${r.error}`);
  const json = r.value;
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
  return scenarios.filter((s) => {
    const c = counts.get(s.cell) ?? 0;
    counts.set(s.cell, c + 1);
    return c < perCell;
  });
}

/**
 * The Evaluate tab's import: one file of our suite format or an InjecAgent list, or a benchmark's
 * released files (several files, or a folder's files with their relative paths as names), detected
 * from their names. Pure: the panel reads the files and shows the error message as is.
 */
export function importSuiteSources(files: readonly SourceFile[]): ImportedSuite {
  if (!files.length) throw new Error('no file chosen');
  const kind = detectBenchmark([...files]);
  if (kind) {
    const r = importBenchmark(kind, [...files]);
    return { name: r.suite.name, kind, scenarios: r.suite.scenarios, skipped: r.skipped };
  }
  if (files.length > 1)
    throw new Error(
      `${files.map((f) => f.name).join(', ')}: not a benchmark release this tab knows (BFCL BFCL_v4_*.json with possible_answer/, ASB agent_task.jsonl + all_*_tools.jsonl + agent configs, AgentDojo environment.yaml + injection_vectors.yaml); import one suite file at a time`,
    );
  return importSuiteText(files[0].name, files[0].text);
}

/** Reads browser File objects (with folder-relative paths when a folder was picked) for importSuiteSources. */
export async function readSourceFiles(list: ArrayLike<File>): Promise<SourceFile[]> {
  // A picked folder may hold a whole repository: only data files are read (one picked file always is).
  const all = Array.from(list);
  const files = all.length === 1 ? all : all.filter((f) => /\.(jsonl?|ya?ml)$/i.test(f.name));
  return Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, text: await f.text() })));
}
