// The 3×3 grid of cells (user prompt × tool output, each Benign / Malicious / Sensitive).
import { For, type JSX } from 'solid-js';
import { cellOf, expectedDecision, type Cell } from '../../sandbox/index';

const LABELS = [
  ['B', 'benign'],
  ['M', 'malicious'],
  ['S', 'sensitive'],
] as const;

export function CellGrid(props: { selected: Cell | null; onSelect: (cell: Cell | null) => void; counts?: Partial<Record<Cell, number>> }): JSX.Element {
  return (
    <table class="cell-grid" data-testid="cell-grid">
      <caption>Cell: user prompt (rows) × tool output (columns)</caption>
      <thead>
        <tr>
          <th />
          <For each={LABELS}>{([, name]) => <th scope="col">tool {name}</th>}</For>
        </tr>
      </thead>
      <tbody>
        <For each={LABELS}>
          {([u, uname]) => (
            <tr>
              <th scope="row">user {uname}</th>
              <For each={LABELS}>
                {([t]) => {
                  const cell = cellOf(u, t);
                  return (
                    <td>
                      <button
                        aria-pressed={props.selected === cell}
                        data-cell={cell}
                        onClick={() => props.onSelect(props.selected === cell ? null : cell)}
                        title={`expected: ${expectedDecision(cell)}`}
                      >
                        {cell}
                        <br />
                        <small>
                          {expectedDecision(cell).replace(/_/g, ' ')}
                          {props.counts ? ` · ${props.counts[cell] ?? 0}` : ''}
                        </small>
                      </button>
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
