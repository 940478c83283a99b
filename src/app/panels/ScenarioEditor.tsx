// Edit what the agent will see: the user prompt, any text its tools will return (paste an
// injection into a web page or email), or replace a tool's whole output with your own text.
import { createSignal, For, Show, type JSX } from 'solid-js';
import type { Scenario } from '../../sandbox/index';
import { editableFields, INJECTION_PRESETS, type ScenarioEdits } from '../lib/scenario-edit';

export function ScenarioEditor(props: { base: Scenario; edits: ScenarioEdits; onChange: (e: ScenarioEdits) => void }): JSX.Element {
  const [overrideTool, setOverrideTool] = createSignal('');
  const fields = () => editableFields(props.base);
  const valueOf = (patch: number, field: string, original: string) => props.edits.patchEdits.find((e) => e.patch === patch && e.field === field)?.value ?? original;
  const setField = (patch: number, field: string, value: string, original: string) => {
    const rest = props.edits.patchEdits.filter((e) => !(e.patch === patch && e.field === field));
    props.onChange({ ...props.edits, patchEdits: value === original ? rest : [...rest, { patch, field, value }] });
  };
  const setOverride = (tool: string, response: string | null) => {
    const rest = props.edits.toolOverrides.filter((o) => o.tool !== tool);
    props.onChange({ ...props.edits, toolOverrides: response === null ? rest : [...rest, { tool, response }] });
  };
  return (
    <div class="editor">
      <label for="user-prompt">User prompt</label>
      <textarea id="user-prompt" data-testid="user-prompt" rows={3} value={props.edits.user ?? props.base.user} onInput={(e) => props.onChange({ ...props.edits, user: e.currentTarget.value === props.base.user ? undefined : e.currentTarget.value })} />
      <Show when={props.edits.user !== undefined}><small>Custom prompt: the scenario's labels (attacker, sensitive actions) still come from {props.base.id}.</small></Show>

      <h4>What the tools will return</h4>
      <For each={fields()} fallback={<p class="note">This scenario adds no items to the world.</p>}>
        {(f) => {
          const id = `field-${f.patch}-${f.field}`;
          return (
            <div class="field-edit">
              <label for={id}>{f.collection} item #{f.patch}: {f.field}</label>
              <textarea id={id} data-testid="world-field" data-field={`${f.patch}.${f.field}`} rows={f.value.length > 120 ? 4 : 1} value={valueOf(f.patch, f.field, f.value)} onInput={(e) => setField(f.patch, f.field, e.currentTarget.value, f.value)} />
              <Show when={f.value.length > 40}>
              <label class="inline">
                <span class="sr-only">Inject into {f.field}</span>
                <select aria-label={`Append an injection to ${f.collection} item ${f.patch} ${f.field}`} onChange={(e) => {
                  const preset = INJECTION_PRESETS[Number(e.currentTarget.value)];
                  if (preset) setField(f.patch, f.field, valueOf(f.patch, f.field, f.value) + preset.text, f.value);
                  e.currentTarget.value = '';
                }}>
                  <option value="">Append an injection…</option>
                  <For each={INJECTION_PRESETS}>{(p, i) => <option value={i()}>{p.label}</option>}</For>
                </select>
              </label>
              </Show>
            </div>
          );
        }}
      </For>

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
            <textarea id="override-text" data-testid="override-text" rows={3} value={props.edits.toolOverrides.find((o) => o.tool === tool())?.response ?? ''} onInput={(e) => setOverride(tool(), e.currentTarget.value)} />
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
