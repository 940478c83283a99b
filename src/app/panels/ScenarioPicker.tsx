// Attack Lab scenario choice: split, cell, domain, then one scenario from the filtered list.
import { createMemo, For, type JSX } from 'solid-js';
import { builtinTool, type Cell, type Scenario } from '../../sandbox/index';
import { CellGrid } from '../components/CellGrid';
import { builtinSplit } from '../lib/suites';

export function domainOf(s: Scenario): string {
  const first = s.userGoal.plan[0]?.name ?? s.tools[0];
  return (first && builtinTool(first)?.domain) || 'custom';
}

export interface PickerState {
  split: 'train' | 'test' | 'imported';
  cell: Cell | null;
  domain: string;
  id: string;
}

export function ScenarioPicker(props: { state: PickerState; onChange: (s: PickerState) => void; imported: Scenario[] | null }): JSX.Element {
  const listFor = (split: PickerState['split']) => (split === 'imported' ? (props.imported ?? []) : builtinSplit(split));
  const all = createMemo(() => listFor(props.state.split));
  const domains = createMemo(() => [...new Set(all().map(domainOf))].sort());
  const filtered = createMemo(() =>
    all().filter((s) => (!props.state.cell || s.cell === props.state.cell) && (!props.state.domain || domainOf(s) === props.state.domain)),
  );
  const counts = createMemo(() => {
    const c: Partial<Record<Cell, number>> = {};
    for (const s of all()) if (!props.state.domain || domainOf(s) === props.state.domain) c[s.cell] = (c[s.cell] ?? 0) + 1;
    return c;
  });
  const set = (patch: Partial<PickerState>) => {
    const next = { ...props.state, ...patch };
    const list = listFor(next.split).filter((s) => (!next.cell || s.cell === next.cell) && (!next.domain || domainOf(s) === next.domain));
    if (!list.some((s) => s.id === next.id)) next.id = list[0]?.id ?? '';
    props.onChange(next);
  };
  return (
    <div class="picker">
      <div class="form">
        <label for="split">Split</label>
        <select id="split" value={props.state.split} onChange={(e) => set({ split: e.currentTarget.value as PickerState['split'] })}>
          <option value="test">test (900 scenarios, held-out families)</option>
          <option value="train">train (3600 scenarios)</option>
          <option value="imported" disabled={!props.imported}>
            imported suite{props.imported ? ` (${props.imported.length})` : ''}
          </option>
        </select>
        <label for="domain">Domain</label>
        <select id="domain" value={props.state.domain} onChange={(e) => set({ domain: e.currentTarget.value })}>
          <option value="">all domains</option>
          <For each={domains()}>{(d) => <option value={d}>{d}</option>}</For>
        </select>
      </div>
      <CellGrid selected={props.state.cell} onSelect={(cell) => set({ cell })} counts={counts()} />
      <label for="scenario">Scenario ({filtered().length})</label>
      <select id="scenario" data-testid="scenario-select" value={props.state.id} onChange={(e) => set({ id: e.currentTarget.value })}>
        <For each={filtered().slice(0, 300)}>
          {(s) => (
            <option value={s.id}>
              {s.id}: {s.user.slice(0, 80)}
            </option>
          )}
        </For>
      </select>
    </div>
  );
}
