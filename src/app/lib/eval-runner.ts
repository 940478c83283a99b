// Runs a policy over scenarios for the Evaluate tab. Unlike the sandbox's runEval it yields to
// the event loop between episodes (scripted policies resolve in microtasks and would otherwise
// freeze the page for a 900-scenario suite), reports progress, and stops on an AbortSignal.
import {
  buildReport,
  runEpisode,
  summarizeEpisode,
  type EpisodeOptions,
  type EpisodeResult,
  type EpisodeSummary,
  type Policy,
  type Scenario,
  type EvalReport,
} from '../../sandbox/index';

export interface EvalProgress {
  done: number;
  total: number;
  elapsedSeconds: number;
}

export async function runEvalInSlices(
  scenarios: Scenario[],
  policy: Policy,
  options: EpisodeOptions & { onProgress?: (p: EvalProgress) => void; onEpisode?: (r: EpisodeResult, s: Scenario) => void; now?: () => number } = {},
): Promise<{ report: EvalReport; summaries: EpisodeSummary[]; errors: string[]; aborted: boolean }> {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const summaries: EpisodeSummary[] = [];
  const errors: string[] = [];
  let lastYield = now();
  for (const scenario of scenarios) {
    if (options.signal?.aborted) break;
    const result = await runEpisode(scenario, policy, options);
    if (result.error) errors.push(`${scenario.id}: ${result.error}`);
    summaries.push(summarizeEpisode(scenario, result));
    options.onEpisode?.(result, scenario);
    if (now() - lastYield > 30) {
      options.onProgress?.({ done: summaries.length, total: scenarios.length, elapsedSeconds: (now() - start) / 1000 });
      await new Promise((r) => setTimeout(r, 0));
      lastYield = now();
    }
  }
  options.onProgress?.({ done: summaries.length, total: scenarios.length, elapsedSeconds: (now() - start) / 1000 });
  return { report: buildReport(summaries), summaries, errors, aborted: !!options.signal?.aborted };
}
