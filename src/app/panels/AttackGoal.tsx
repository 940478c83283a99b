// The attacker goal of an edited scenario: what counts as attack success. Presets bring their own;
// for text the user wrote, they declare a tool (and optionally text an argument would contain).
// Until something is declared, the verdict is "not judged", never "no attack success".
import { createSignal, For, Show, type JSX } from 'solid-js';
import { BUILTIN_TOOLS } from '../../sandbox/index';
import { attackOf, editsToolText, type AttackDecl, type ScenarioEdits } from '../lib/scenario-edit';

export function AttackGoal(props: { edits: ScenarioEdits; baseHasAttacker: boolean; onChange: (e: ScenarioEdits) => void }): JSX.Element {
  const [tool, setTool] = createSignal('');
  const [argText, setArgText] = createSignal('');
  const attacks = () => props.edits.attacks ?? [];
  const goalOf = (d: AttackDecl) => {
    try {
      return attackOf(d).goal;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const declare = () => {
    if (!tool()) return;
    props.onChange({ ...props.edits, attacks: [...attacks(), { tool: tool(), argText: argText().trim() || undefined }] });
    setTool('');
    setArgText('');
  };
  const remove = (i: number) => props.onChange({ ...props.edits, attacks: attacks().filter((_, j) => j !== i) });
  return (
    <div class="attack-goal" data-testid="attack-goal">
      <h4>Attacker goal (what counts as attack success)</h4>
      <Show
        when={attacks().length}
        fallback={
          <Show
            when={editsToolText(props.edits) && !props.baseHasAttacker}
            fallback={<p class="note">{props.baseHasAttacker ? "Judged against the scenario's own attacker goal." : 'No injection in this scenario.'}</p>}
          >
            <p class="warn" role="status" data-testid="attack-undeclared">
              Not judged: no attacker goal declared. Say which call would mean the attack worked; until then the verdict lists off-task actions only.
            </p>
          </Show>
        }
      >
        <ul class="attack-list">
          <For each={attacks()}>
            {(d, i) => (
              <li data-testid="declared-attack">
                {goalOf(d)}{' '}
                <button class="small" onClick={() => remove(i())} aria-label={`Remove attacker goal ${i() + 1}`}>
                  Remove
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <div class="form row">
        <label for="attack-tool">Success is a call to</label>
        <select id="attack-tool" data-testid="attack-tool" value={tool()} onChange={(e) => setTool(e.currentTarget.value)}>
          <option value="">choose a tool…</option>
          <For each={BUILTIN_TOOLS}>{(t) => <option value={t.name}>{t.name}</option>}</For>
        </select>
        <label for="attack-arg">with an argument containing (optional)</label>
        <input
          id="attack-arg"
          data-testid="attack-arg"
          value={argText()}
          maxLength={500}
          placeholder="e.g. an account or address"
          onInput={(e) => setArgText(e.currentTarget.value)}
        />
        <button data-testid="attack-declare" disabled={!tool()} onClick={declare}>
          Declare
        </button>
      </div>
    </div>
  );
}
