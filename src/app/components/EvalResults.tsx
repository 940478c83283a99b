// Evaluate's results browser: any number of runs side by side per cell (the first one shown is
// the reference for the ▲▼ changes, coloured by meaning: safer or better is green), Wilson 95 %
// intervals on every rate, run metadata in the labels, a warning when the runs are not comparable,
// per-run JSON / CSV export, and a drill-down: cell → its episodes → one trajectory with rewards.
import { createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import { CELLS, type Rates } from '../../sandbox/index';
import { downloadText, reportToCsv, reportToJson, wilson, type EvalRun } from '../lib/eval-export';
import { formatPercent } from '../lib/format';
import { BenchmarkHeadlines } from './BenchmarkHeadlines';
import { EpisodeDrill } from './EpisodeDrill';

/** The rates shown, whether higher is better, and the population each is measured on. */
export const EVAL_METRICS: { key: keyof Rates; label: string; better: 'higher' | 'lower'; n: keyof Rates | null }[] = [
  { key: 'attack_success_rate', label: 'attack success', better: 'lower', n: 'n_attack' },
  { key: 'refusal_rate_malicious', label: 'refusal (malicious)', better: 'higher', n: 'n_malicious' },
  { key: 'verification_rate_sensitive', label: 'verification (sensitive)', better: 'higher', n: 'n_sensitive' },
  { key: 'benign_task_completion', label: 'task completion (benign)', better: 'higher', n: 'n_benign' },
  { key: 'over_refusal_rate_benign', label: 'over-refusal', better: 'lower', n: 'n_benign' },
  { key: 'format_validity', label: 'format valid', better: 'higher', n: 'n' },
  { key: 'mean_reward', label: 'mean reward', better: 'higher', n: null },
];

const fileBase = (r: EvalRun, i: number) => `eval-run${i + 1}-${r.policy}-${r.suite}`.replace(/[^A-Za-z0-9._-]+/g, '_');

export function EvalResults(props: { runs: EvalRun[] }): JSX.Element {
  // Which runs are shown; by default the latest two.
  const [picked, setPicked] = createSignal<Set<number> | null>(null);
  const shown = createMemo(() => {
    const p = picked();
    const all = props.runs.map((_, i) => i);
    return p ? all.filter((i) => p.has(i)) : all.slice(-2);
  });
  const toggle = (i: number, on: boolean) => {
    const next = new Set(shown());
    if (on) next.add(i);
    else next.delete(i);
    setPicked(next);
  };
  const [drill, setDrill] = createSignal<{ run: number; group: string } | null>(null);

  const groups = createMemo(() => ['overall', ...CELLS.filter((c) => shown().some((i) => props.runs[i].report.by_cell[c]))]);
  const ratesOf = (run: EvalRun, group: string) => (group === 'overall' ? run.report.overall : run.report.by_cell[group]);
  const warnings = createMemo(() => {
    const runs = shown().map((i) => props.runs[i]);
    const out: string[] = [];
    if (new Set(runs.map((r) => r.suite)).size > 1) out.push('The runs used different scenario sets: compare them with care.');
    const differing = groups().filter((g) => new Set(runs.map((r) => ratesOf(r, g)?.n ?? 0)).size > 1);
    if (differing.length) out.push(`Different numbers of episodes in ${differing.join(', ')}: a change may be noise; see the intervals.`);
    return out;
  });

  return (
    <div class="eval-results">
      <fieldset class="run-picker">
        <legend>Runs shown (the first is the reference for ▲▼)</legend>
        <For each={props.runs}>
          {(r, i) => (
            <div class="run-line">
              <label>
                <input type="checkbox" data-testid="run-toggle" checked={shown().includes(i())} onChange={(e) => toggle(i(), e.currentTarget.checked)} />{' '}
                {r.label}
              </label>
              <button class="small" data-testid="export-json" onClick={() => downloadText(`${fileBase(r, i())}.json`, reportToJson(r), 'application/json')}>
                JSON
              </button>
              <button class="small" data-testid="export-csv" onClick={() => downloadText(`${fileBase(r, i())}.csv`, reportToCsv(r), 'text/csv')}>
                CSV
              </button>
            </div>
          )}
        </For>
      </fieldset>
      <For each={warnings()}>
        {(w) => (
          <p class="warn" role="status" data-testid="compare-warning">
            {w}
          </p>
        )}
      </For>
      <p class="note">
        Each rate with its 95 % Wilson interval over the episodes it is measured on; ▲▼ in percentage points against the reference run,{' '}
        <span class="delta-better">green when better</span> (safer), <span class="delta-worse">red when worse</span>. Click a group for its episodes.
      </p>
      <div class="table-scroll">
        <table class="bar-table eval-table" data-testid="eval-table">
          <caption>Rates per cell and overall</caption>
          <thead>
            <tr>
              <th scope="col">group</th>
              <th scope="col">run</th>
              <For each={EVAL_METRICS}>{(m) => <th scope="col">{m.label}</th>}</For>
            </tr>
          </thead>
          <tbody>
            <For each={groups()}>
              {(g) => (
                <For each={shown()}>
                  {(ri, k) => {
                    const run = () => props.runs[ri];
                    const rates = () => ratesOf(run(), g);
                    const ref = () => (k() > 0 ? ratesOf(props.runs[shown()[0]], g) : undefined);
                    return (
                      <tr class={k() === 0 ? 'group-first' : ''} data-group={g} data-run={ri}>
                        <Show when={k() === 0}>
                          <th scope="rowgroup" rowSpan={shown().length}>
                            {g}
                          </th>
                        </Show>
                        <td>
                          <button class="link" data-testid="open-group" title={run().label} onClick={() => setDrill({ run: ri, group: g })}>
                            #{ri + 1} (n={rates()?.n ?? 0})
                          </button>
                        </td>
                        <For each={EVAL_METRICS}>
                          {(m) => {
                            const v = () => rates()?.[m.key] ?? 0;
                            const n = () => (m.n && rates() ? (rates()![m.n] as number) : 0);
                            const ci = () => (m.n ? wilson(Math.round(v() * n()), n()) : null);
                            const d = () => {
                              const r = ref();
                              return r && rates() ? v() - (r[m.key] as number) : undefined;
                            };
                            const better = () => d()! > 0 === (m.better === 'higher');
                            return (
                              <td>
                                <Show
                                  when={!m.n || n() > 0}
                                  fallback={
                                    <span class="note" title="nothing in this population">
                                      n/a
                                    </span>
                                  }
                                >
                                  <div class="bar">
                                    <div class="bar-fill" style={{ width: `${Math.max(0, Math.min(1, v())) * 100}%` }} />
                                  </div>
                                  <span class="bar-value">{m.n ? `${(v() * 100).toFixed(0)}%` : v().toFixed(2)}</span>
                                  <Show when={ci()}>
                                    {(c) => (
                                      <span class="ci" data-testid="ci">
                                        [{(c()[0] * 100).toFixed(0)}–{(c()[1] * 100).toFixed(0)}]
                                      </span>
                                    )}
                                  </Show>
                                  <Show when={d() !== undefined && Math.abs(d()!) > 1e-9}>
                                    <span class={`delta ${better() ? 'delta-better' : 'delta-worse'}`} data-testid="delta" data-better={better()}>
                                      {d()! > 0 ? '▲' : '▼'}
                                      {(Math.abs(d()!) * 100).toFixed(0)}
                                    </span>
                                  </Show>
                                </Show>
                              </td>
                            );
                          }}
                        </For>
                      </tr>
                    );
                  }}
                </For>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <BenchmarkHeadlines runs={props.runs} shown={shown()} />
      <For each={shown()}>
        {(ri) => (
          <Show when={props.runs[ri].report.injecagent}>
            {(ia) => (
              <p data-testid="injecagent">
                #{ri + 1} InjecAgent: valid {formatPercent(ia().valid_rate)}, ASR-valid total {formatPercent(ia().asr_valid.total)}, ASR-all total{' '}
                {formatPercent(ia().asr_all.total)} (n={ia().n})
              </p>
            )}
          </Show>
        )}
      </For>
      <Show when={drill()}>{(d) => <EpisodeDrill run={props.runs[d().run]} group={d().group} onClose={() => setDrill(null)} />}</Show>
    </div>
  );
}
