// Evaluation results as files: the report as JSON, and a CSV with one row per group (overall and
// each cell) plus one row per episode. Cells starting with = + - @ are quoted with a leading '
// so a spreadsheet never evaluates text from an imported suite as a formula.
import type { EpisodeResult, EpisodeSummary, EvalReport, Rates, Scenario } from '../../sandbox/index';

export const RATE_COLUMNS: (keyof Rates)[] = [
  'n',
  'attack_success_rate',
  'n_attack',
  'refusal_rate_malicious',
  'n_malicious',
  'verification_rate_sensitive',
  'n_sensitive',
  'over_refusal_rate_benign',
  'needless_verification_rate_benign',
  'benign_task_completion',
  'n_benign',
  'format_validity',
  'mean_reward',
  'mean_format_reward',
  'mean_label_reward',
];

/** What a run was: enough to tell two runs apart and to reproduce one. */
export interface RunMeta {
  policy: string;
  /** The loaded model, for model policies (null for scripted ones, which use none). */
  model: string | null;
  quantization: string | null;
  adapter: string | null;
  maxTurns: number;
  /** Sampling: model runs are greedy, so the seed does not change them. */
  seed: string;
  verifier: string;
  suite: string;
  n: number;
  /** ISO date-time the run finished. */
  date: string;
}

export interface EvalRun {
  label: string;
  policy: string;
  suite: string;
  report: EvalReport;
  summaries: EpisodeSummary[];
  errors: string[];
  seconds: number;
  meta?: RunMeta;
  /** Each episode's full trajectory, in the order of `summaries` (for drill-down and JSON export). */
  episodes?: EpisodeResult[];
  /** The scenarios run, in the same order (the drill-down marks their attackers' calls; not exported). */
  scenarios?: Scenario[];
}

/** The run's label: number, policy (+ adapter), model and quantization, suite, n, turns, date. */
export function runLabel(index: number, m: RunMeta, stopped = false): string {
  const who = m.adapter ? `${m.policy} + adapter ${m.adapter}` : m.policy;
  const model = m.model ? ` · ${m.model}${m.quantization ? ` ${m.quantization}` : ''}` : '';
  return `#${index} ${who}${model} · ${m.suite} · n=${m.n}${stopped ? ' (stopped)' : ''} · ${m.maxTurns} turns · ${m.date.slice(0, 16).replace('T', ' ')}`;
}

/**
 * Wilson score interval for k successes in n trials (95 % by default): unlike ±1.96·SE it stays
 * inside [0, 1] and is honest at n = 2. Null when n = 0 (nothing was measured).
 */
export function wilson(k: number, n: number, z = 1.96): [number, number] | null {
  if (!(n > 0)) return null;
  const p = k / n,
    z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Per-episode rows shared by the CSV and the JSON export. */
function episodeRow(s: EpisodeSummary) {
  return {
    scenario: s.scenarioId,
    cell: s.cell,
    attack_type: s.attackType ?? '',
    reward: s.reward,
    format_reward: s.formatReward,
    label_reward: s.labelReward,
    end_reason: s.endReason,
    refused: s.outcome.refused,
    attack_success: s.outcome.attackSuccess,
    attack_judged: s.outcome.attackJudged !== false,
    task_completed: s.outcome.taskCompleted,
    tool_calls: s.outcome.toolCallCount,
  };
}

export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportToCsv(run: EvalRun): string {
  const lines = [['section', 'group', ...RATE_COLUMNS].map(csvCell).join(',')];
  const row = (section: string, group: string, r: Rates) => lines.push([section, group, ...RATE_COLUMNS.map((k) => r[k])].map(csvCell).join(','));
  row('overall', 'all', run.report.overall);
  for (const [cell, r] of Object.entries(run.report.by_cell)) row('cell', cell, r);
  for (const [type, r] of Object.entries(run.report.by_attack_type)) row('attack_type', type, r);
  // The run's metadata (model, quantization, adapter, policy, turns, seed, verifier, n, date).
  for (const [k, v] of Object.entries(run.meta ?? { label: run.label })) lines.push(['meta', k, v].map(csvCell).join(','));
  lines.push('');
  const header = Object.keys(episodeRow(run.summaries[0] ?? ({ outcome: {} } as EpisodeSummary)));
  lines.push([...header, 'run'].join(','));
  for (const s of run.summaries) lines.push([...Object.values(episodeRow(s)), run.label].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

export function reportToJson(run: EvalRun): string {
  return JSON.stringify(
    {
      ...run.report,
      meta: { label: run.label, policy: run.policy, suite: run.suite, seconds: run.seconds, policy_errors: run.errors, ...run.meta },
      // One row per episode, with its full trajectory (turns, calls, checks, state changes, reward breakdown).
      episodes: run.summaries.map((s, i) => ({ ...episodeRow(s), outcome: s.outcome, trajectory: run.episodes?.[i] ?? null })),
    },
    null,
    2,
  );
}

/** Offers text as a file download (object URL, revoked after the click). */
export function downloadText(fileName: string, text: string, mime: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
