// Imported benchmarks' headline numbers for the Evaluate results browser: the rows the CLI prints
// (benchmarkHeadlineRows, one truth), plus which direction is better, for colouring changes.
import { benchmarkHeadlineRows, type BenchmarkMetrics } from '../../sandbox/benchmarks/metrics';

export interface Headline {
  key: string;
  label: string;
  value: number | null;
  n: number;
  better: 'higher' | 'lower' | null;
  proportion: boolean;
}

/** Attack success and unsafe rates are better lower; a detector's refusal rate has no right direction. */
function betterOf(metric: string): Headline['better'] {
  if (/ASR|unsafe/i.test(metric)) return 'lower';
  if (/refusal rate \(our detector\)/.test(metric)) return null;
  return 'higher';
}

export function benchmarkHeadlines(b: BenchmarkMetrics | undefined): Headline[] {
  if (!b) return [];
  return benchmarkHeadlineRows(b).map((r) => ({
    key: `${r.benchmark}\u0000${r.metric}`,
    label: `${r.benchmark}: ${r.metric}`,
    value: r.value,
    n: r.n,
    better: betterOf(r.metric),
    // NRP is PNA × (1 − ASR), not a count over n: no binomial interval for it.
    proportion: r.metric !== 'NRP',
  }));
}
