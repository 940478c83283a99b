// The Train tab's "Resume from" selector: a new run, or a stored checkpoint trained here on the
// loaded model (the worker says which fit). Imported PEFT adapters are listed disabled: the store
// resumes only checkpoints whose base-model fingerprint matches the loaded model, and PEFT files
// carry none. Checkpoint names are user and file text: rendered as text only.
import { createEffect, For, Show, type JSX } from 'solid-js';
import type { AdapterListItem, AdapterListResult } from '../../worker-api/protocol';

/** Checkpoints a run can continue: they fit the loaded model and were trained here. */
export function resumableCheckpoints(list: AdapterListResult | undefined): AdapterListItem[] {
  return (list?.items ?? []).filter((i) => i.fits && !i.imported);
}

export function TrainResume(props: {
  list: (AdapterListResult & { error?: string }) | undefined;
  /** Checkpoint id, or undefined for a new run. */
  value: string | undefined;
  onChange: (id: string | undefined) => void;
  disabled: boolean;
}): JSX.Element {
  const resumable = () => resumableCheckpoints(props.list);
  const imported = () => (props.list?.items ?? []).filter((i) => i.fits && i.imported);
  const notFitting = () => (props.list?.items ?? []).filter((i) => !i.fits);
  const chosen = () => resumable().find((i) => i.id === props.value);

  // The options arrive after the select is built: set its value again once they are there.
  let select: HTMLSelectElement | undefined;
  createEffect(() => {
    resumable();
    if (select) select.value = props.value ?? '';
  });

  return (
    <div class="form">
      <label for="cfg-resume">Resume from</label>
      <select
        ref={select}
        id="cfg-resume"
        data-testid="train-resume"
        disabled={props.disabled}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.currentTarget.value || undefined)}
      >
        <option value="">New run (fresh adapter)</option>
        <For each={resumable()}>
          {(i) => (
            <option value={i.id}>
              {i.name} (step {i.step}
              {i.rank !== undefined ? `, rank ${i.rank}` : ''})
            </option>
          )}
        </For>
        <For each={imported()}>
          {(i) => (
            <option value={i.id} disabled>
              {i.name}: imported PEFT adapter, cannot be resumed (no fingerprint of its base model)
            </option>
          )}
        </For>
        {/* A chosen checkpoint that is gone (deleted, model changed) stays visible, disabled. */}
        <Show when={props.value && !chosen()}>
          <option value={props.value} disabled>
            checkpoint no longer available for the loaded model
          </option>
        </Show>
      </select>
      <Show when={chosen()}>
        {(c) => (
          <small data-testid="resume-note">
            Continues "{c().name}" from step {c().step} with its adapter (rank {c().rank ?? '?'}), AdamW state and metrics history. Steps is the total to reach:
            more than {c().step}.
          </small>
        )}
      </Show>
      <Show when={props.list?.error}>
        <small class="error" role="alert">
          Checkpoints: {props.list!.error}
        </small>
      </Show>
      <Show when={imported().length > 0 && !chosen()}>
        <small data-testid="resume-imported-note">
          Imported PEFT adapters can be applied in the Attack Lab, not resumed: training continues only checkpoints trained here on this base model.
        </small>
      </Show>
      <Show when={notFitting().length > 0}>
        <small>
          <details data-testid="resume-not-fitting">
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
        </small>
      </Show>
    </div>
  );
}
