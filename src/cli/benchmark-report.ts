// `eval` additions for imported benchmarks: a headline per benchmark on the console, the flat
// metrics as CSV (--benchmarks-csv FILE), and base-vs-adapter deltas against an earlier report
// (--baseline REPORT.json), e.g. BFCL accuracy of the adapter minus the base model's: the alignment tax.
import { readFileSync, writeFileSync } from 'node:fs';
import { benchmarkMetricsCsv, compareBenchmarkMetrics, type BenchmarkMetrics } from '../sandbox/benchmarks/metrics';
import { CliError, outputFileFlag, stringFlag, type Flags } from './flags';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** One line per benchmark with its headline numbers, as each benchmark reports them. */
export function benchmarkHeadlines(m: BenchmarkMetrics): string[] {
  const out: string[] = [];
  if (m.bfcl) out.push(`BFCL (${m.bfcl.n}): non-live AST ${pct(m.bfcl.non_live_ast)}, irrelevance ${pct(m.bfcl.irrelevance)}, overall ${pct(m.bfcl.overall)}; ${Object.entries(m.bfcl.by_category).map(([c, a]) => `${c} ${pct(a.accuracy)}`).join(', ')}`);
  if (m.asb) out.push(`ASB (${m.asb.n}): ASR ${pct(m.asb.attacked.asr)} (${Object.entries(m.asb.by_setting).filter(([s]) => s !== 'clean').map(([s, g]) => `${s.toUpperCase()} ${pct(g.asr)}`).join(', ')}), original task ${pct(m.asb.attacked.original_task_success)}, refusal ${pct(m.asb.attacked.refusal_rate)}, PNA ${pct(m.asb.pna)}, NRP ${pct(m.asb.nrp)}`);
  if (m.agentdojo) out.push(`AgentDojo banking: utility ${pct(m.agentdojo.utility)} (${m.agentdojo.n_user_tasks} tasks), utility under attack ${pct(m.agentdojo.utility_under_attack)}, targeted ASR ${pct(m.agentdojo.targeted_asr)} (${m.agentdojo.n_pairs} pairs)`);
  if (m.agent_safetybench) out.push(`Agent-SafetyBench (${m.agent_safetybench.n}): not judged (needs its judge model); approximation only: unsafe ${pct(m.agent_safetybench.approximation.unsafe_rate_unfulfillable)} of ${m.agent_safetybench.n_unfulfillable} unfulfillable cases, refusal ${pct(m.agent_safetybench.approximation.refusal_rate_unfulfillable)}`);
  return out;
}

export interface BenchmarkEvalOutput { csvPath?: string; baseline?: BenchmarkMetrics; baselinePath?: string }

/** Reads --benchmarks-csv and --baseline before the (possibly long) run, so bad paths fail first. */
export function benchmarkEvalFlags(flags: Flags): BenchmarkEvalOutput {
  const csvPath = outputFileFlag(flags, 'benchmarks-csv');
  const baselinePath = stringFlag(flags, 'baseline');
  if (!baselinePath) return { csvPath };
  let json: unknown;
  try { json = JSON.parse(readFileSync(baselinePath, 'utf8')); } catch (e) { throw new CliError(`cannot read the baseline report ${baselinePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  const b = (json as { benchmarks?: unknown })?.benchmarks;
  if (typeof b !== 'object' || b === null) throw new CliError(`--baseline ${baselinePath}: the report has no "benchmarks" (evaluate an imported benchmark suite first)`);
  return { csvPath, baseline: b as BenchmarkMetrics, baselinePath };
}

/** Adds the deltas to the report, writes the CSV, prints the headlines. */
export function finishBenchmarkEval(opts: BenchmarkEvalOutput, metrics: BenchmarkMetrics | undefined, log: (line: string) => void): Record<string, unknown> {
  if (!metrics) {
    if (opts.csvPath || opts.baseline) throw new CliError('--benchmarks-csv and --baseline need a suite imported from a benchmark (scenarios --import bfcl|asb|agentdojo)');
    return {};
  }
  for (const line of benchmarkHeadlines(metrics)) log(line);
  const deltas = opts.baseline ? compareBenchmarkMetrics(opts.baseline, metrics) : undefined;
  if (deltas) {
    const head = deltas.filter((d) => ['bfcl.overall', 'bfcl.non_live_ast', 'asb.attacked.asr', 'agentdojo.utility', 'agentdojo.targeted_asr'].includes(d.metric));
    log(`vs ${opts.baselinePath}: ${head.map((d) => `${d.metric} ${pct(d.base)} → ${pct(d.other)} (${d.delta >= 0 ? '+' : ''}${(100 * d.delta).toFixed(1)} points)`).join(', ') || 'no shared metric'}`);
  }
  if (opts.csvPath) writeFileSync(opts.csvPath, benchmarkMetricsCsv(metrics));
  return deltas ? { benchmarks_vs_baseline: { baseline: opts.baselinePath, deltas } } : {};
}
