// A checkpoint as ONE download: a zip holding a folder named after it with the PEFT files
// (adapter_config.json, adapter_model.safetensors, README.md) and our sidecar (name, step, base
// model). Unzipped, the folder loads with PeftModel.from_pretrained; imported here, it keeps its
// name and step.
import { unzipSync, zipSync } from 'fflate';
import type { PeftAdapterFiles } from '../../peft/export';
import { CHECKPOINT_SIDECAR, sidecarText, type CheckpointSidecar } from '../../worker-api/checkpoint-sidecar';

/** A file-name-safe version of a checkpoint name ("tiny · step 2" → "tiny-step-2"). */
export function slugOf(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 80) || 'checkpoint'
  );
}

export function checkpointZip(files: PeftAdapterFiles, meta: CheckpointSidecar): { fileName: string; bytes: Uint8Array } {
  const folder = slugOf(meta.name);
  const entries: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(files)) if (bytes) entries[`${folder}/${name}`] = bytes;
  entries[`${folder}/${CHECKPOINT_SIDECAR}`] = new TextEncoder().encode(sidecarText(meta));
  return { fileName: `${folder}.zip`, bytes: zipSync(entries, { level: 6 }) };
}

/** A zip's local-file-header signature "PK\x03\x04" (by content: a download may lose its .zip name). */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/**
 * Whether a picked file may be one of our exported zips. When the adapter's own files were picked
 * too (a PEFT or TRL output folder), a zip-format file beside them is not an export (TRL's
 * training_args.bin is a torch zip pickle): only a file named *.zip is unpacked then.
 */
export function mayBeExportZip(name: string, picked: readonly { name: string }[]): boolean {
  return name.toLowerCase().endsWith('.zip') || !picked.some((f) => f.name === 'adapter_config.json');
}

const WANTED = new Set(['adapter_config.json', 'adapter_model.safetensors', CHECKPOINT_SIDECAR]);

/** The adapter files inside a zip (any folder depth), as Files the importer reads. */
export function filesFromZip(zipName: string, bytes: Uint8Array): File[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => WANTED.has(f.name.split('/').pop() ?? '') });
  } catch (e) {
    throw new Error(`${zipName}: not a readable zip file (${(e as Error).message})`);
  }
  const files = Object.entries(entries).map(([path, data]) => new File([data as BlobPart], path.split('/').pop()!));
  if (!files.length) throw new Error(`${zipName}: holds no adapter_config.json or adapter_model.safetensors`);
  return files;
}
