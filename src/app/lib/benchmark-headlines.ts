// The headline rates of imported benchmarks' own metrics, for the Evaluate results browser.
import type { BenchmarkMetrics } from '../../sandbox/benchmarks/metrics';

export interface Headline { key: string; label: string; value: number | null; n: number; better: 'higher' | 'lower' }

/** The headline rates of a report's benchmark section (none when it has none). */
export function benchmarkHeadlines(b: BenchmarkMetrics | undefined): Headline[] {
  if (!b) return [];
  const out: Headline[] = [];
  if (b.bfcl) out.push({ key: 'bfcl', label: 'BFCL accuracy', value: b.bfcl.overall, n: b.bfcl.n, better: 'higher' });
  if (b.asb) {
    out.push({ key: 'asb-asr', label: 'ASB attack success (ASR)', value: b.asb.attacked.asr, n: b.asb.attacked.n, better: 'lower' });
    out.push({ key: 'asb-ots', label: 'ASB original-task success under attack', value: b.asb.attacked.original_task_success, n: b.asb.attacked.n, better: 'higher' });
  }
  if (b.agentdojo) {
    out.push({ key: 'ad-utility', label: 'AgentDojo utility', value: b.agentdojo.utility, n: b.agentdojo.n_user_tasks, better: 'higher' });
    out.push({ key: 'ad-uua', label: 'AgentDojo utility under attack', value: b.agentdojo.utility_under_attack, n: b.agentdojo.n_pairs, better: 'higher' });
    out.push({ key: 'ad-asr', label: 'AgentDojo targeted ASR', value: b.agentdojo.targeted_asr, n: b.agentdojo.n_pairs, better: 'lower' });
  }
  if (b.agent_safetybench) {
    const a = b.agent_safetybench;
    out.push({ key: 'asb-unsafe', label: 'Agent-SafetyBench unsafe rate (rule approximation, not the benchmark\'s judge)', value: a.approximation.unsafe_rate_unfulfillable, n: a.n_unfulfillable, better: 'lower' });
  }
  return out;
}
