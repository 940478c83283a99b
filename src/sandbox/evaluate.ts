// Runs a policy over a list of scenarios and builds the report (used by the CLI and the UI).
import { runEpisode, type EpisodeOptions, type EpisodeResult } from './agent-loop';
import { buildReport, summarizeEpisode, type EpisodeSummary, type EvalReport } from './metrics';
import type { Policy } from './policy';
import type { Scenario } from './scenarios/types';

export interface EvalOptions extends EpisodeOptions {
  onEpisode?: (scenario: Scenario, result: EpisodeResult, index: number) => void;
}

export async function runEval(scenarios: Scenario[], policy: Policy, options: EvalOptions = {}): Promise<{ report: EvalReport; summaries: EpisodeSummary[]; errors: string[] }> {
  const summaries: EpisodeSummary[] = [];
  const errors: string[] = [];
  for (const [i, scenario] of scenarios.entries()) {
    const result = await runEpisode(scenario, policy, options);
    if (result.error) errors.push(`${scenario.id}: ${result.error}`);
    summaries.push(summarizeEpisode(scenario, result));
    options.onEpisode?.(scenario, result, i);
  }
  return { report: buildReport(summaries), summaries, errors };
}
