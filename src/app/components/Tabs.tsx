// An ARIA tablist with a roving tabindex: Tab reaches the selected tab only, arrow keys (and
// Home/End) move between tabs and select them.
import { For, type JSX } from 'solid-js';

export interface TabDef {
  id: string;
  label: string;
}

export function Tabs(props: { tabs: TabDef[]; selected: string; onSelect: (id: string) => void; label: string }): JSX.Element {
  const refs: HTMLButtonElement[] = [];
  const move = (from: number, delta: number | 'first' | 'last') => {
    const n = props.tabs.length;
    const to = delta === 'first' ? 0 : delta === 'last' ? n - 1 : (from + delta + n) % n;
    props.onSelect(props.tabs[to].id);
    refs[to]?.focus();
  };
  const onKey = (e: KeyboardEvent, i: number) => {
    const map: Record<string, number | 'first' | 'last'> = { ArrowRight: 1, ArrowLeft: -1, Home: 'first', End: 'last' };
    const d = map[e.key];
    if (d === undefined) return;
    e.preventDefault();
    move(i, d);
  };
  return (
    <div role="tablist" aria-label={props.label} class="tabs">
      <For each={props.tabs}>
        {(tab, i) => (
          <button
            ref={(el) => (refs[i()] = el)}
            role="tab"
            id={`tab-${tab.id}`}
            aria-controls={`panel-${tab.id}`}
            aria-selected={props.selected === tab.id}
            tabindex={props.selected === tab.id ? 0 : -1}
            onClick={() => props.onSelect(tab.id)}
            onKeyDown={(e) => onKey(e, i())}
          >
            {tab.label}
          </button>
        )}
      </For>
    </div>
  );
}
