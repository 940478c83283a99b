// Drill-down from a results cell: the episodes of that group in one run, then one episode's full
// trajectory with its reward breakdown. Model and tool text stays text (TurnView, RewardView).
import { createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import type { EvalRun } from '../lib/eval-export';
import { RewardView } from './RewardView';
import { TurnView } from './TurnView';

export function EpisodeDrill(props: { run: EvalRun; group: string; onClose: () => void }): JSX.Element {
  const [open, setOpen] = createSignal<number | null>(null);
  const rows = createMemo(() => props.run.summaries.map((s, i) => ({ s, i })).filter(({ s }) => props.group === 'overall' || s.cell === props.group));
  const episode = () => {
    const i = open();
    return i === null ? undefined : props.run.episodes?.[i];
  };
  return (
    <section class="drill" aria-label={`Episodes of ${props.group}`} data-testid="episode-list">
      <div class="drill-head">
        <h3>
          {props.group}: {rows().length} episode(s) of {props.run.label}
        </h3>
        <button onClick={props.onClose}>Close</button>
      </div>
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr>
              <th>scenario</th>
              <th>cell</th>
              <th>reward</th>
              <th>attack</th>
              <th>task</th>
              <th>refused</th>
              <th>ended</th>
              <th />
            </tr>
          </thead>
          <tbody>
            <For each={rows()}>
              {({ s, i }) => (
                <tr data-testid="episode-row" class={open() === i ? 'selected' : ''}>
                  <td>{s.scenarioId}</td>
                  <td>{s.cell}</td>
                  <td>{s.reward.toFixed(2)}</td>
                  <td>{s.outcome.attackJudged === false ? 'not judged' : s.outcome.attackSuccess ? '✕ succeeded' : s.attackType ? '✓ resisted' : '—'}</td>
                  <td>{s.outcome.taskCompleted ? '✓' : '○'}</td>
                  <td>{s.outcome.refused ? 'yes' : 'no'}</td>
                  <td>{s.endReason.replace('_', ' ')}</td>
                  <td>
                    <button class="small" data-testid="open-episode" disabled={!props.run.episodes?.[i]} onClick={() => setOpen(i)}>
                      Trajectory
                    </button>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={episode()}>
        {(e) => (
          <div class="card trajectory" data-testid="episode-trajectory">
            <h4>
              {props.run.summaries[open()!].scenarioId} · ended: {e().endReason.replace('_', ' ')} after {e().turns.length} turn(s)
            </h4>
            <ol class="turns">
              <For each={e().turns}>{(t) => <TurnView turn={t} attacker={props.run.scenarios?.[open()!]?.attacker} />}</For>
            </ol>
            <RewardView score={e().score} />
          </div>
        )}
      </Show>
    </section>
  );
}
