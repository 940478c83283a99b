// The Checkpoints tab's built-in adapters: PEFT folders shipped with the app for its bundled models
// (the demo agent's aligned adapter). "Add to checkpoints" runs the same PEFT import as a picked
// folder; once stored, every policy selector offers it for the model it fits.
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { findModel } from '../../hf-io/registry';
import { describeBuiltinAdapters, importBuiltinAdapter, storedBuiltin, type BuiltinAdapterInfo } from '../builtin-adapters';
import { engine } from '../state';

export function BuiltinAdapters(props: { stored: readonly { id: string; name: string; step: number }[]; onImported: () => void }): JSX.Element {
  const [infos] = createResource(describeBuiltinAdapters);
  const [busy, setBusy] = createSignal<string | null>(null);
  const [error, setError] = createSignal<string | null>(null);

  const add = async (info: BuiltinAdapterInfo) => {
    setError(null);
    setBusy(info.path);
    try {
      await importBuiltinAdapter(info, engine());
      props.onImported();
    } catch (e) {
      setError(`Adding ${info.path} failed, nothing was stored: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Show when={(infos()?.length ?? 0) > 0 || infos.error}>
      <section class="builtin-adapters" data-testid="builtin-adapters" aria-labelledby="builtin-title">
        <h3 id="builtin-title">Built-in adapters</h3>
        <Show when={infos.error}>
          <p class="error" role="alert">
            Built-in adapters: {(infos.error as Error)?.message ?? String(infos.error)}
          </p>
        </Show>
        <table class="data">
          <thead>
            <tr>
              <th>name</th>
              <th>step</th>
              <th>for model</th>
              <th>source</th>
              <th>actions</th>
            </tr>
          </thead>
          <tbody>
            <For each={infos() ?? []}>
              {(info) => (
                <tr data-testid="builtin-adapter">
                  <td>{info.name}</td>
                  <td>{info.step}</td>
                  <td>{findModel(info.modelId).label}</td>
                  <td>
                    <code>{info.path}/</code> (part of the app)
                  </td>
                  <td>
                    <Show
                      when={storedBuiltin(info, props.stored)}
                      fallback={
                        <button onClick={() => void add(info)} disabled={busy() !== null} aria-label={`Add ${info.name} to the checkpoints`}>
                          {busy() === info.path ? 'Adding…' : 'Add to checkpoints'}
                        </button>
                      }
                    >
                      <span class="badge" data-testid="builtin-stored">
                        ✓ in the checkpoints
                      </span>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="builtin-error">
            {error()}
          </p>
        </Show>
        <p class="note">
          Adding one imports its PEFT files like a picked folder. It applies to the model it was trained on; with that model loaded, Demo mode puts it beside
          the base model by itself.
        </p>
      </section>
    </Show>
  );
}
