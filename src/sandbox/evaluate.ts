// Runs a policy over a list of scenarios and builds the report (used by the CLI and the UI).
import { runEpisode, type EpisodeOptions, type EpisodeResult } from './agent-loop';
import { buildReport, summarizeEpisode, type EpisodeSummary, type EvalReport } from './metrics';
import type { Policy } from './policy';
import type { Scenario } from './scenarios/types';

export interface EvalOptions extends EpisodeOptions {
  /** Called as each episode ends (in completion order when concurrency > 1; `index` is the scenario's). */
  onEpisode?: (scenario: Scenario, result: EpisodeResult, index: number) => void;
  /** Episodes in flight at once (default 1). A batching policy (the model policy) generates
   *  their turns together; the report is the same, in scenario order, whatever the value. */
  concurrency?: number;
}

export async function runEval(
  scenarios: Scenario[],
  policy: Policy,
  options: EvalOptions = {},
): Promise<{ report: EvalReport; summaries: EpisodeSummary[]; errors: string[] }> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`runEval: concurrency must be a positive integer, got ${concurrency}`);
  const results: EpisodeResult[] = new Array(scenarios.length);
  let next = 0;
  const lane = async () => {
    while (next < scenarios.length) {
      const i = next++;
      results[i] = await runEpisode(scenarios[i], policy, options);
      options.onEpisode?.(scenarios[i], results[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, scenarios.length) }, lane));
  const errors = results.flatMap((r, i) => (r.error ? [`${scenarios[i].id}: ${r.error}`] : []));
  const summaries = results.map((r, i) => summarizeEpisode(scenarios[i], r));
  return { report: buildReport(summaries), summaries, errors };
}
