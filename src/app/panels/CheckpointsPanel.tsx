// Checkpoints stored in IndexedDB: list with sizes, rename, delete, export and import as PEFT
// files, storage in use.
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { CheckpointStore, type CheckpointSummary } from '../../checkpoints/index';
import { checkpointToPeftFiles } from '../../peft/export';
import { checkpointsChanged, checkpointsVersion } from '../adapter-list';
import { PeftImport } from '../components/PeftImport';
import { BuiltinAdapters } from '../components/BuiltinAdapters';
import { formatBytes } from '../lib/format';
import { checkpointZip } from '../lib/checkpoint-zip';

/** Offers bytes as a file download (object URL, revoked after the click). */
function downloadBytes(fileName: string, bytes: Uint8Array, mime: string) {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

let store: CheckpointStore | undefined;
function getStore(): CheckpointStore {
  store ??= new CheckpointStore();
  return store;
}

export function CheckpointsPanel(): JSX.Element {
  const [error, setError] = createSignal<string | null>(null);
  // Also re-read when another view changes the store (training saves, PEFT imports).
  const [data, { refetch }] = createResource(checkpointsVersion, async () => {
    try {
      const s = getStore();
      return { list: await s.list(), report: await s.storageReport() };
    } catch (e) {
      setError((e as Error).message);
      return null;
    }
  });
  const [editing, setEditing] = createSignal<string | null>(null);

  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    }
    checkpointsChanged(); // re-reads this list too
  };
  const rename = (c: CheckpointSummary, name: string) =>
    act(async () => {
      await getStore().rename(c.id, name);
      setEditing(null);
    });
  // One file: a zip holding a folder named after the checkpoint (PEFT loads the folder as is).
  const exportPeft = (c: CheckpointSummary) =>
    act(async () => {
      const loaded = await getStore().load(c.id, { expectedBaseModel: 'any' });
      const zip = checkpointZip(checkpointToPeftFiles(loaded), {
        name: c.name,
        step: c.step,
        baseModel: { repo: c.baseModel.repo, revision: c.baseModel.revision },
      });
      downloadBytes(zip.fileName, zip.bytes, 'application/zip');
    });
  const remove = (c: CheckpointSummary) => {
    if (confirm(`Delete checkpoint "${c.name}"? This cannot be undone.`)) void act(() => getStore().delete(c.id));
  };

  return (
    <section class="card" aria-labelledby="ckpt-title" data-testid="checkpoints">
      <h2 id="ckpt-title">Checkpoints</h2>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={data()}>
        {(d) => (
          <>
            <p data-testid="storage">
              {d().report.checkpointCount} checkpoint(s), {formatBytes(d().report.checkpointBytes)}
              <Show when={d().report.origin}>
                {(o) => (
                  <>
                    {' '}
                    · this site uses {formatBytes(o().usageBytes)} of {formatBytes(o().quotaBytes)} available
                  </>
                )}
              </Show>
            </p>
            <table class="data" data-testid="stored-checkpoints">
              <thead>
                <tr>
                  <th>name</th>
                  <th>step</th>
                  <th>base model</th>
                  <th>size</th>
                  <th>created</th>
                  <th>actions</th>
                </tr>
              </thead>
              <tbody>
                <For
                  each={d().list}
                  fallback={
                    <tr>
                      <td colSpan={6}>No checkpoints yet. Training saves them here.</td>
                    </tr>
                  }
                >
                  {(c) => (
                    <tr>
                      <td>
                        <Show
                          when={editing() === c.id}
                          fallback={
                            <>
                              {c.name}
                              <Show when={c.problem}>
                                {' '}
                                <span class="badge badge-warn">⚠ {c.problem}</span>
                              </Show>
                            </>
                          }
                        >
                          <form
                            onSubmit={(e) => {
                              e.preventDefault();
                              void rename(c, (e.currentTarget.elements.namedItem('name') as HTMLInputElement).value);
                            }}
                          >
                            <input name="name" aria-label={`New name for ${c.name}`} value={c.name} />
                            <button type="submit">Save</button>
                          </form>
                        </Show>
                      </td>
                      <td>{c.step}</td>
                      <td>
                        {c.baseModel.repo}@{c.baseModel.revision}
                      </td>
                      <td>{formatBytes(c.byteSize)}</td>
                      <td>{new Date(c.createdAt).toLocaleString()}</td>
                      <td>
                        <button onClick={() => setEditing(c.id)} disabled={!!c.problem}>
                          Rename
                        </button>
                        <button class="deny" onClick={() => remove(c)}>
                          Delete
                        </button>
                        <button onClick={() => void exportPeft(c)} disabled={!!c.problem} aria-label={`Export ${c.name} as a PEFT adapter (zip)`}>
                          Export (zip)
                        </button>
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
      </div>
      <p class="note">
        Export downloads one zip named after the checkpoint. Unzipped it is a folder with adapter_config.json, adapter_model.safetensors, README.md and
        playground_checkpoint.json (name and step): load it with PeftModel.from_pretrained(model, folder), or import the zip here to get the checkpoint back
        with its name and step.
      </p>
      <BuiltinAdapters stored={data()?.list ?? []} onImported={() => checkpointsChanged()} />
      <PeftImport onImported={() => checkpointsChanged()} />
    </section>
  );
}
