// Import of a PEFT LoRA adapter as a stored checkpoint: pick its folder, or its two files. The
// engine worker parses and checks them (a large adapter would freeze the page here) and stores
// them; a malformed file is named in the error and nothing is stored.
import { createSignal, Show, type JSX } from 'solid-js';
import { filesFromZip, isZip, mayBeExportZip } from '../lib/checkpoint-zip';
import { engine } from '../state';

export function PeftImport(props: { onImported: () => void }): JSX.Element {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);

  const run = async (input: HTMLInputElement) => {
    let files = [...(input.files ?? [])];
    input.value = ''; // so picking the same files again fires another change
    if (files.length === 0) return;
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      // A zip (our one-file export) is unpacked here; the worker reads and checks what is inside.
      const zips: File[] = [];
      for (const f of files) if (mayBeExportZip(f.name, files) && isZip(new Uint8Array(await f.slice(0, 4).arrayBuffer()))) zips.push(f);
      if (zips.length)
        files = [
          ...files.filter((f) => !zips.includes(f)),
          ...(await Promise.all(zips.map(async (z) => filesFromZip(z.name, new Uint8Array(await z.arrayBuffer()))))).flat(),
        ];
      const summary = await engine().importAdapter(files);
      setDone(`Imported "${summary.name}" at step ${summary.step} (base model ${summary.baseModel.repo}).`);
      props.onImported();
    } catch (e) {
      setError(`Import failed, nothing was stored: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <fieldset class="peft-import" data-testid="peft-import" disabled={busy()}>
      <legend>Import a PEFT adapter</legend>
      <div class="form row">
        <label for="peft-folder">Its folder</label>
        <input
          id="peft-folder"
          data-testid="peft-folder"
          type="file"
          ref={(el) => {
            el.webkitdirectory = true;
          }}
          onChange={(e) => void run(e.currentTarget)}
        />
        <label for="peft-files">or an exported zip, or adapter_config.json + adapter_model.safetensors</label>
        <input
          id="peft-files"
          data-testid="peft-files"
          type="file"
          multiple
          accept=".zip,.json,.safetensors,application/json,application/zip"
          onChange={(e) => void run(e.currentTarget)}
        />
      </div>
      <Show when={busy()}>
        <p class="note" aria-live="polite">
          Reading and checking the adapter…
        </p>
      </Show>
      <Show when={done()}>
        <p class="note" role="status" data-testid="peft-import-done">
          {done()}
        </p>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert" data-testid="peft-import-error">
          {error()}
        </p>
      </Show>
      <p class="note">
        A zip exported here keeps its checkpoint's name and step; otherwise the checkpoint is named after the folder (or the weights file) and starts at step 0.
        Either way it gets a fresh optimizer state (stored as zeros, twice the adapter's size), and records the base model its adapter_config.json names
        (base_model_name_or_path). PEFT files carry no fingerprint of the base model's weights, so the Attack Lab offers an imported adapter for any loaded
        model whose layer shapes it fits, and says which base model it names. Only LoRA on the attention and MLP projections of every layer is accepted.
      </p>
    </fieldset>
  );
}
