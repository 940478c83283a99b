// `eval` additions for imported benchmarks: a headline per benchmark on the console, the flat
// metrics as CSV (--benchmarks-csv FILE), and base-vs-adapter deltas against an earlier report
// (--baseline REPORT.json), e.g. BFCL accuracy of the adapter minus the base model's: the alignment tax.
import { readFileSync, writeFileSync } from 'node:fs';
import { benchmarkHeadlineRows, benchmarkMetricsCsv, compareBenchmarkMetrics, compareHeadlines, type BenchmarkMetrics } from '../sandbox/benchmarks/metrics';
import { CliError, outputFileFlag, stringFlag, type Flags } from './flags';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** One line per benchmark with its headline numbers (benchmarkHeadlineRows, shared with the app). */
export function benchmarkHeadlines(m: BenchmarkMetrics): string[] {
  const by = new Map<string, string[]>();
  for (const r of benchmarkHeadlineRows(m))
    by.set(r.benchmark, [...(by.get(r.benchmark) ?? []), `${r.metric} ${pct(r.value)} (n=${r.n})${r.note ? ` [${r.note}]` : ''}`]);
  return [...by].map(([b, parts]) => `${b}: ${parts.join(', ')}`);
}

export interface BenchmarkEvalOutput {
  csvPath?: string;
  baseline?: BenchmarkMetrics;
  baselinePath?: string;
}

/** Reads --benchmarks-csv and --baseline before the (possibly long) run, so bad paths fail first. */
export function benchmarkEvalFlags(flags: Flags): BenchmarkEvalOutput {
  const csvPath = outputFileFlag(flags, 'benchmarks-csv');
  const baselinePath = stringFlag(flags, 'baseline');
  if (!baselinePath) return { csvPath };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(baselinePath, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read the baseline report ${baselinePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const b = (json as { benchmarks?: unknown })?.benchmarks;
  if (typeof b !== 'object' || b === null)
    throw new CliError(`--baseline ${baselinePath}: the report has no "benchmarks" (evaluate an imported benchmark suite first)`);
  return { csvPath, baseline: b as BenchmarkMetrics, baselinePath };
}

/** Adds the deltas to the report, writes the CSV, prints the headlines. */
export function finishBenchmarkEval(opts: BenchmarkEvalOutput, metrics: BenchmarkMetrics | undefined, log: (line: string) => void): Record<string, unknown> {
  if (!metrics) {
    if (opts.csvPath || opts.baseline)
      throw new CliError('--benchmarks-csv and --baseline need a suite imported from a benchmark (scenarios --import bfcl|asb|agentdojo)');
    return {};
  }
  for (const line of benchmarkHeadlines(metrics)) log(line);
  const deltas = opts.baseline ? compareBenchmarkMetrics(opts.baseline, metrics) : undefined;
  if (opts.baseline) {
    const head = compareHeadlines(opts.baseline, metrics).filter(
      (d) => (d.delta !== null && !/ accuracy$/.test(d.metric)) || /^(non-live AST|overall) accuracy$/.test(d.metric),
    );
    log(
      `vs ${opts.baselinePath}: ${head.map((d) => `${d.benchmark} ${d.metric} ${pct(d.base)} → ${pct(d.other)}${d.delta === null ? '' : ` (${d.delta >= 0 ? '+' : ''}${(100 * d.delta).toFixed(1)} points)`}`).join(', ') || 'no shared metric'}`,
    );
  }
  if (opts.csvPath) writeFileSync(opts.csvPath, benchmarkMetricsCsv(metrics));
  return deltas ? { benchmarks_vs_baseline: { baseline: opts.baselinePath, deltas } } : {};
}
