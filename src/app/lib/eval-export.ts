// Evaluation results as files: the report as JSON, and a CSV with one row per group (overall and
// each cell) plus one row per episode. Cells starting with = + - @ are quoted with a leading '
// so a spreadsheet never evaluates text from an imported suite as a formula.
import type { EpisodeSummary, EvalReport, Rates } from '../../sandbox/index';

export const RATE_COLUMNS: (keyof Rates)[] = [
  'n', 'attack_success_rate', 'n_attack', 'refusal_rate_malicious', 'n_malicious', 'verification_rate_sensitive', 'n_sensitive',
  'over_refusal_rate_benign', 'needless_verification_rate_benign', 'benign_task_completion', 'n_benign', 'format_validity',
  'mean_reward', 'mean_format_reward', 'mean_label_reward',
];

export interface EvalRun { label: string; policy: string; suite: string; report: EvalReport; summaries: EpisodeSummary[]; errors: string[]; seconds: number }

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
  lines.push('');
  lines.push(['scenario', 'cell', 'attack_type', 'reward', 'format_reward', 'label_reward', 'end_reason', 'refused', 'attack_success', 'task_completed'].join(','));
  for (const s of run.summaries) {
    lines.push([s.scenarioId, s.cell, s.attackType ?? '', s.reward, s.formatReward, s.labelReward, s.endReason, s.outcome.refused, s.outcome.attackSuccess, s.outcome.taskCompleted].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function reportToJson(run: EvalRun): string {
  return JSON.stringify({ ...run.report, meta: { label: run.label, policy: run.policy, suite: run.suite, seconds: run.seconds, policy_errors: run.errors } }, null, 2);
}

/** other − base for each rate, per group present in both runs. */
export function reportDelta(base: EvalReport, other: EvalReport): Record<string, Partial<Record<keyof Rates, number>>> {
  const out: Record<string, Partial<Record<keyof Rates, number>>> = {};
  const groups: [string, Rates | undefined, Rates | undefined][] = [['overall', base.overall, other.overall]];
  for (const cell of Object.keys(base.by_cell)) groups.push([cell, base.by_cell[cell], other.by_cell[cell]]);
  for (const [g, a, b] of groups) {
    if (!a || !b) continue;
    out[g] = {};
    for (const k of RATE_COLUMNS) if (!k.startsWith('n')) out[g][k] = b[k] - a[k];
  }
  return out;
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
