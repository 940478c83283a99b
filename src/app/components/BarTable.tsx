// Rates as a table of horizontal bars (one row per group, one bar per metric): readable without
// colour (each bar carries its number), and driven only by data.
import { For, Show, type JSX } from 'solid-js';

export interface BarRow { group: string; values: Record<string, number>; deltas?: Record<string, number> }

export function BarTable(props: { caption: string; metrics: { key: string; label: string }[]; rows: BarRow[]; testId?: string }): JSX.Element {
  return (
    <table class="bar-table" data-testid={props.testId}>
      <caption>{props.caption}</caption>
      <thead>
        <tr><th scope="col">group</th><For each={props.metrics}>{(m) => <th scope="col">{m.label}</th>}</For></tr>
      </thead>
      <tbody>
        <For each={props.rows}>
          {(row) => (
            <tr>
              <th scope="row">{row.group}</th>
              <For each={props.metrics}>
                {(m) => {
                  const v = () => row.values[m.key] ?? 0;
                  const d = () => row.deltas?.[m.key];
                  return (
                    <td>
                      <div class="bar"><div class="bar-fill" style={{ width: `${Math.max(0, Math.min(1, v())) * 100}%` }} /></div>
                      <span class="bar-value">{(v() * 100).toFixed(0)}%</span>
                      <Show when={d() !== undefined && Math.abs(d()!) > 1e-9}>
                        <span class={d()! > 0 ? 'delta delta-up' : 'delta delta-down'}>{d()! > 0 ? '▲' : '▼'}{(Math.abs(d()!) * 100).toFixed(0)}</span>
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
  );
}
