// One labelled selector for a policy: the loaded base model, each stored checkpoint whose adapter
// fits it (applied in the worker for this policy's turns only), and the scripted policies.
// Checkpoints that do not fit are listed below it with the reason, so none silently vanishes.
import { createEffect, createMemo, For, Show, type JSX } from 'solid-js';
import type { AdapterListItem, AdapterListResult } from '../../worker-api/protocol';
import { POLICY_NAMES, type PolicyName } from '../lib/share-hash';
import type { PolicyPick } from '../policy-factory';
import { POLICY_LABELS } from '../policy-factory';
import { loadedModel } from '../state';

const CHECKPOINT_PREFIX = 'checkpoint:';

/** The selector value of a pick: the policy name, or "checkpoint:ID" for an adapter. */
export function pickValue(pick: PolicyPick): string {
  return pick.adapter ? CHECKPOINT_PREFIX + pick.adapter.checkpointId : pick.name;
}

/** The pick a selector value stands for; undefined for a checkpoint that is not among `items`. */
export function pickFromValue(value: string, items: readonly AdapterListItem[]): PolicyPick | undefined {
  if (!value.startsWith(CHECKPOINT_PREFIX)) return { name: value as PolicyName };
  const item = items.find((i) => i.fits && CHECKPOINT_PREFIX + i.id === value);
  return item ? { name: 'model', adapter: { checkpointId: item.id, label: item.name } } : undefined;
}

/** The stored checkpoints a selector offers: those whose adapter fits the loaded model. */
export function fittingAdapters(list: AdapterListResult | undefined): AdapterListItem[] {
  return (list?.items ?? []).filter((i) => i.fits);
}

export interface PolicySelectProps {
  /** Accessible name, e.g. "Policy for Left". */
  label: string;
  value: PolicyPick;
  onChange: (pick: PolicyPick) => void;
  adapters: (AdapterListResult & { error?: string }) | undefined;
  testId?: string;
  id?: string;
}

export function PolicySelect(props: PolicySelectProps): JSX.Element {
  const fitting = createMemo(() => fittingAdapters(props.adapters));
  const notFitting = createMemo(() => (props.adapters?.modelLoaded ? props.adapters.items.filter((i) => !i.fits) : []));
  const chosen = createMemo(() => {
    const id = props.value.adapter?.checkpointId;
    return id ? fitting().find((i) => i.id === id) : undefined;
  });
  const scripted = POLICY_NAMES.filter((p) => p !== 'model');
  // Training names checkpoints "<model> · step N": the step is not repeated after such a name.
  const label = (i: { name: string; step: number; imported: boolean }) =>
    `Adapter: ${i.name}${i.name.endsWith(`step ${i.step}`) ? '' : ` · step ${i.step}`}${i.imported ? ' · imported' : ''}`;

  const onChange = (value: string) => {
    const pick = pickFromValue(value, fitting());
    if (pick) props.onChange(pick);
  };

  // The options arrive after the select is built: set the value again once they are there.
  let select: HTMLSelectElement | undefined;
  createEffect(() => {
    fitting();
    chosen();
    if (select) select.value = pickValue(props.value);
  });

  return (
    <div class="policy-select">
      <select
        ref={select}
        id={props.id}
        data-testid={props.testId}
        aria-label={props.label}
        value={pickValue(props.value)}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        <optgroup label="Model">
          <option value="model">{loadedModel() ? `Base model: ${loadedModel()!.label}` : POLICY_LABELS.model}</option>
          <For each={fitting()}>{(i) => <option value={CHECKPOINT_PREFIX + i.id}>{label(i)}</option>}</For>
          {/* A chosen adapter that no longer fits (model changed, deleted) stays visible, disabled. */}
          <Show when={props.value.adapter && !chosen()}>
            <option value={pickValue(props.value)} disabled>
              Adapter: {props.value.adapter!.label} (not available for the loaded model)
            </option>
          </Show>
        </optgroup>
        <optgroup label="Scripted">
          <For each={scripted}>{(p) => <option value={p}>{POLICY_LABELS[p]}</option>}</For>
        </optgroup>
      </select>
      <Show when={chosen()?.imported}>
        <p class="note" data-testid="adapter-note">
          Imported adapter for {chosen()!.baseModel.repo}: PEFT files carry no fingerprint of their base model, so only its shapes were checked against the
          loaded model.
        </p>
      </Show>
      <Show when={props.adapters?.error}>
        <p class="error" role="alert">
          Checkpoints: {props.adapters!.error}
        </p>
      </Show>
      <Show when={notFitting().length > 0}>
        <details class="note" data-testid="adapters-not-fitting">
          <summary>{notFitting().length} stored checkpoint(s) do not fit the loaded model</summary>
          <ul>
            <For each={notFitting()}>
              {(i) => (
                <li>
                  {i.name}: {i.problem}
                </li>
              )}
            </For>
          </ul>
        </details>
      </Show>
    </div>
  );
}
