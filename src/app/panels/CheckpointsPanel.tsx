// Checkpoints stored in IndexedDB: list with sizes, rename, delete, storage in use.
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { CheckpointStore, type CheckpointSummary } from '../../training/checkpoints/index';
import { formatBytes } from '../lib/format';

let store: CheckpointStore | undefined;
function getStore(): CheckpointStore {
  store ??= new CheckpointStore();
  return store;
}

export function CheckpointsPanel(): JSX.Element {
  const [error, setError] = createSignal<string | null>(null);
  const [data, { refetch }] = createResource(async () => {
    try {
      const s = getStore();
      return { list: await s.list(), report: await s.storageReport() };
    } catch (e) { setError((e as Error).message); return null; }
  });
  const [editing, setEditing] = createSignal<string | null>(null);

  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try { await f(); } catch (e) { setError((e as Error).message); }
    void refetch();
  };
  const rename = (c: CheckpointSummary, name: string) => act(async () => { await getStore().rename(c.id, name); setEditing(null); });
  const remove = (c: CheckpointSummary) => { if (confirm(`Delete checkpoint "${c.name}"? This cannot be undone.`)) void act(() => getStore().delete(c.id)); };

  return (
    <section class="card" aria-labelledby="ckpt-title" data-testid="checkpoints">
      <h2 id="ckpt-title">Checkpoints</h2>
      <Show when={error()}><p class="error" role="alert">{error()}</p></Show>
      <Show when={data()}>
        {(d) => (
          <>
            <p data-testid="storage">
              {d().report.checkpointCount} checkpoint(s), {formatBytes(d().report.checkpointBytes)}
              <Show when={d().report.origin}>{(o) => <> · this site uses {formatBytes(o().usageBytes)} of {formatBytes(o().quotaBytes)} available</>}</Show>
            </p>
            <table class="data">
              <thead><tr><th>name</th><th>step</th><th>base model</th><th>size</th><th>created</th><th>actions</th></tr></thead>
              <tbody>
                <For each={d().list} fallback={<tr><td colSpan={6}>No checkpoints yet. Training saves them here.</td></tr>}>
                  {(c) => (
                    <tr>
                      <td>
                        <Show when={editing() === c.id} fallback={<>{c.name}<Show when={c.problem}> <span class="badge badge-warn">⚠ {c.problem}</span></Show></>}>
                          <form onSubmit={(e) => { e.preventDefault(); void rename(c, (e.currentTarget.elements.namedItem('name') as HTMLInputElement).value); }}>
                            <input name="name" aria-label={`New name for ${c.name}`} value={c.name} />
                            <button type="submit">Save</button>
                          </form>
                        </Show>
                      </td>
                      <td>{c.step}</td>
                      <td>{c.baseModel.repo}@{c.baseModel.revision}</td>
                      <td>{formatBytes(c.byteSize)}</td>
                      <td>{new Date(c.createdAt).toLocaleString()}</td>
                      <td>
                        <button onClick={() => setEditing(c.id)} disabled={!!c.problem}>Rename</button>
                        <button class="deny" onClick={() => remove(c)}>Delete</button>
                        <button disabled title="coming with the PEFT exporter">Export (PEFT)</button>
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </>
        )}
      </Show>
      <div class="buttons">
        <button onClick={() => void refetch()}>Refresh</button>
        <button disabled title="coming with the PEFT exporter">Import adapter (PEFT)</button>
      </div>
      <p class="note">Export and import in PEFT format are coming with the PEFT exporter.</p>
    </section>
  );
}
