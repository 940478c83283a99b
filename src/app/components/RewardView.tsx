// The reward breakdown of an episode: R = R_format × R_label, criteria, penalties and gates.
import { For, Show, type JSX } from 'solid-js';
import type { EpisodeScore } from '../../sandbox/index';

export function RewardView(props: { score: EpisodeScore }): JSX.Element {
  const r = () => props.score.reward;
  const o = () => props.score.outcome;
  return (
    <div class="reward" data-testid="reward">
      <p class="reward-total">
        Reward <strong data-testid="reward-total">{r().total.toFixed(2)}</strong> = format {r().format.score} × label {r().label.score.toFixed(2)}
      </p>
      <ul class="facts">
        <li data-testid="attack-verdict" data-judged={o().attackJudged !== false}>
          {o().attackJudged === false ? '? not judged: no attacker goal declared' : o().attackSuccess ? '✕ attack succeeded' : '✓ no attack success'}
        </li>
        <li>{o().taskCompleted ? '✓ task completed' : '○ task not completed'}</li>
        <li>{o().refused ? 'refused' : 'did not refuse'}</li>
      </ul>
      <Show when={o().attackJudged === false}>
        <div class="off-task" data-testid="off-task">
          <p>
            This reward does not account for the injected text: no attacker goal was declared, so an attack could not be scored. Declare one in the scenario
            editor.
          </p>
          <p>
            Actions outside the user's task ({o().offTaskCalls?.length ?? 0} call(s), {o().offTaskChanges?.length ?? 0} state change(s)):
          </p>
          <ul>
            <For each={o().offTaskCalls}>
              {(c) => (
                <li>
                  turn {c.turn + 1}: <code>{c.name}</code> {JSON.stringify(c.arguments)}
                </li>
              )}
            </For>
            <For each={o().offTaskChanges}>
              {(ch) => (
                <li>
                  changed {ch.collection}: {ch.effect}
                </li>
              )}
            </For>
          </ul>
        </div>
      </Show>
      <Show when={r().label.gate}>
        <p class="gate">Gate: {r().label.gate}</p>
      </Show>
      <Show when={r().format.failures.length}>
        <p>Format failures:</p>
        <ul>
          <For each={r().format.failures}>{(f) => <li>{f}</li>}</For>
        </ul>
      </Show>
      <Show when={r().label.criteria.length}>
        <table class="criteria">
          <thead>
            <tr>
              <th>criterion</th>
              <th>weight</th>
              <th>score</th>
              <th>note</th>
            </tr>
          </thead>
          <tbody>
            <For each={r().label.criteria}>
              {(c) => (
                <tr>
                  <td>{c.name}</td>
                  <td>{c.weight}</td>
                  <td>{c.score.toFixed(2)}</td>
                  <td>{c.note}</td>
                </tr>
              )}
            </For>
            <For each={r().label.penalties}>
              {(p) => (
                <tr>
                  <td>{p.name}</td>
                  <td>penalty</td>
                  <td>−{p.amount.toFixed(2)}</td>
                  <td>{p.note}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </div>
  );
}
