// Edit what the agent will see: the user prompt, any text its tools will return (paste an
// injection into a web page or email), or replace a tool's whole output with your own text.
import { createSignal, For, Show, type JSX } from 'solid-js';
import type { Scenario } from '../../sandbox/index';
import { editableFields, INJECTION_PRESETS, type ScenarioEdits } from '../lib/scenario-edit';
import { AttackGoal } from './AttackGoal';

/** Rows enough to show the whole text (an appended injection must not hide below the fold). */
export function rowsFor(text: string): number {
  const lines = text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 70)), 0);
  return Math.min(14, Math.max(2, lines));
}

export function ScenarioEditor(props: { base: Scenario; edits: ScenarioEdits; onChange: (e: ScenarioEdits) => void }): JSX.Element {
  const [overrideTool, setOverrideTool] = createSignal('');
  const fields = () => editableFields(props.base);
  const valueOf = (patch: number, field: string, original: string) =>
    props.edits.patchEdits.find((e) => e.patch === patch && e.field === field)?.value ?? original;
  const setField = (patch: number, field: string, value: string, original: string, extra: Partial<ScenarioEdits> = {}) => {
    const rest = props.edits.patchEdits.filter((e) => !(e.patch === patch && e.field === field));
    props.onChange({ ...props.edits, patchEdits: value === original ? rest : [...rest, { patch, field, value }], ...extra });
  };
  const withPreset = (id: string) => {
    const attacks = props.edits.attacks ?? [];
    return attacks.some((a) => 'preset' in a && a.preset === id) ? attacks : [...attacks, { preset: id }];
  };
  const setOverride = (tool: string, response: string | null) => {
    const rest = props.edits.toolOverrides.filter((o) => o.tool !== tool);
    props.onChange({ ...props.edits, toolOverrides: response === null ? rest : [...rest, { tool, response }] });
  };
  return (
    <div class="editor">
      <label for="user-prompt">User prompt</label>
      <textarea
        id="user-prompt"
        data-testid="user-prompt"
        rows={rowsFor(props.edits.user ?? props.base.user)}
        value={props.edits.user ?? props.base.user}
        onInput={(e) => props.onChange({ ...props.edits, user: e.currentTarget.value === props.base.user ? undefined : e.currentTarget.value })}
      />
      <Show when={props.edits.user !== undefined}>
        <small>Custom prompt: the scenario's labels (attacker, sensitive actions) still come from {props.base.id}.</small>
      </Show>

      <h4>What the tools will return</h4>
      <For each={fields()} fallback={<p class="note">This scenario adds no items to the world.</p>}>
        {(f) => {
          const id = `field-${f.patch}-${f.field}`;
          return (
            <div class="field-edit">
              <label for={id}>
                {f.collection} item #{f.patch}: {f.field}
              </label>
              <textarea
                id={id}
                data-testid="world-field"
                data-field={`${f.patch}.${f.field}`}
                rows={rowsFor(valueOf(f.patch, f.field, f.value))}
                value={valueOf(f.patch, f.field, f.value)}
                onInput={(e) => setField(f.patch, f.field, e.currentTarget.value, f.value)}
              />
              <label class="inline">
                <span class="sr-only">Inject into {f.field}</span>
                <select
                  data-testid="inject-preset"
                  aria-label={`Append an injection to ${f.collection} item ${f.patch} ${f.field}`}
                  onChange={(e) => {
                    const preset = INJECTION_PRESETS.find((p) => p.id === e.currentTarget.value);
                    // The preset's attacker goal comes with its text, so the attack is judged.
                    if (preset) setField(f.patch, f.field, valueOf(f.patch, f.field, f.value) + preset.text, f.value, { attacks: withPreset(preset.id) });
                    e.currentTarget.value = '';
                  }}
                >
                  <option value="">Append an injection…</option>
                  <For each={INJECTION_PRESETS}>{(p) => <option value={p.id}>{p.label}</option>}</For>
                </select>
              </label>
            </div>
          );
        }}
      </For>

      <AttackGoal edits={props.edits} baseHasAttacker={!!props.base.attacker} onChange={props.onChange} />

      <h4>Replace a tool's output</h4>
      <div class="form">
        <label for="override-tool">Tool</label>
        <select id="override-tool" value={overrideTool()} onChange={(e) => setOverrideTool(e.currentTarget.value)}>
          <option value="">choose a tool…</option>
          <For each={props.base.tools}>{(t) => <option value={t}>{t}</option>}</For>
        </select>
      </div>
      <Show when={overrideTool()}>
        {(tool) => (
          <div class="field-edit">
            <label for="override-text">Text {tool()} returns (it changes nothing in the world)</label>
            <textarea
              id="override-text"
              data-testid="override-text"
              rows={3}
              value={props.edits.toolOverrides.find((o) => o.tool === tool())?.response ?? ''}
              onInput={(e) => setOverride(tool(), e.currentTarget.value)}
            />
            <button onClick={() => setOverride(tool(), null)}>Use the real tool</button>
          </div>
        )}
      </Show>
      <Show when={props.edits.toolOverrides.length}>
        <p class="note">Overridden: {props.edits.toolOverrides.map((o) => o.tool).join(', ')}</p>
      </Show>
    </div>
  );
}
