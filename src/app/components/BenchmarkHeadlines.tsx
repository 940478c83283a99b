// Imported benchmarks' own headline numbers (BFCL, ASB, AgentDojo, Agent-SafetyBench), shown the
// same way as the cell rates: one column per run, 95 % Wilson intervals, ▲▼ against the first run
// coloured by meaning.
import { createMemo, For, Show, type JSX } from 'solid-js';
import { benchmarkHeadlines } from '../lib/benchmark-headlines';
import { wilson, type EvalRun } from '../lib/eval-export';

export function BenchmarkHeadlines(props: { runs: EvalRun[]; shown: number[] }): JSX.Element {
  const perRun = createMemo(() => props.shown.map((i) => new Map(benchmarkHeadlines(props.runs[i].report.benchmarks).map((h) => [h.key, h]))));
  const rows = createMemo(() => {
    const seen = new Map<string, string>();
    for (const m of perRun()) for (const h of m.values()) seen.set(h.key, h.label);
    return [...seen];
  });
  return (
    <Show when={rows().length}>
      <table class="bar-table" data-testid="benchmark-headlines">
        <caption>Benchmark headlines (each benchmark's own metric)</caption>
        <thead>
          <tr>
            <th scope="col">metric</th>
            <For each={props.shown}>
              {(i) => (
                <th scope="col" title={props.runs[i].label}>
                  #{i + 1}
                </th>
              )}
            </For>
          </tr>
        </thead>
        <tbody>
          <For each={rows()}>
            {([key, label]) => (
              <tr>
                <th scope="row">{label}</th>
                <For each={perRun()}>
                  {(m, k) => {
                    const h = () => m.get(key);
                    const ref = () => (k() > 0 ? perRun()[0].get(key) : undefined);
                    const d = () => {
                      const a = h()?.value,
                        b = ref()?.value;
                      return a != null && b != null ? a - b : undefined;
                    };
                    const better = () => (h()!.better === null ? null : d()! > 0 === (h()!.better === 'higher'));
                    const ci = () => (h()?.value != null && h()!.proportion ? wilson(Math.round(h()!.value! * h()!.n), h()!.n) : null);
                    return (
                      <td>
                        <Show when={h()?.value != null} fallback={<span class="note">n/a</span>}>
                          <span class="bar-value">{(h()!.value! * 100).toFixed(1)}%</span> <span class="note">n={h()!.n}</span>
                          <Show when={ci()}>
                            {(c) => (
                              <span class="ci">
                                [{(c()[0] * 100).toFixed(0)}–{(c()[1] * 100).toFixed(0)}]
                              </span>
                            )}
                          </Show>
                          <Show when={d() !== undefined && Math.abs(d()!) > 1e-9}>
                            <span class={`delta ${better() === null ? '' : better() ? 'delta-better' : 'delta-worse'}`}>
                              {d()! > 0 ? '▲' : '▼'}
                              {(Math.abs(d()!) * 100).toFixed(1)}
                            </span>
                          </Show>
                        </Show>
                      </td>
                    );
                  }}
                </For>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </Show>
  );
}
