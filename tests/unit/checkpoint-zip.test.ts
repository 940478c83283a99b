// The Checkpoints tab's one-file export and what its import unpacks: our zip round-trips its PEFT
// files and sidecar; a TRL output folder's training_args.bin (a torch pickle in zip format) is not
// taken for an export when the adapter's own files were picked beside it.
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { checkpointZip, filesFromZip, isZip, mayBeExportZip, slugOf } from '../../src/app/lib/checkpoint-zip';

const meta = { name: 'first run · step 3', step: 3, baseModel: { repo: 'tiny', revision: 'main' } } as never;

describe('checkpoint zip', () => {
  it('exports one zip named after the checkpoint and reads its adapter files back', async () => {
    const files = { 'adapter_config.json': new TextEncoder().encode('{"r":4}'), 'adapter_model.safetensors': new Uint8Array([1, 2, 3]) };
    const zip = checkpointZip(files as never, meta);
    expect(zip.fileName).toBe(`${slugOf('first run · step 3')}.zip`);
    expect(isZip(zip.bytes.subarray(0, 4))).toBe(true);
    const back = filesFromZip(zip.fileName, zip.bytes);
    expect(back.map((f) => f.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'playground_checkpoint.json']);
    expect(new Uint8Array(await back.find((f) => f.name === 'adapter_model.safetensors')!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('does not unpack a zip-format training_args.bin picked beside the adapter files', () => {
    const torchPickle = zipSync({ 'archive/data.pkl': new Uint8Array([0x80, 2]) });
    expect(isZip(torchPickle.subarray(0, 4))).toBe(true); // it IS a zip by content...
    expect(() => filesFromZip('training_args.bin', torchPickle)).toThrow(/holds no adapter_config.json/); // ...and would fail as an export
    const folder = [{ name: 'adapter_config.json' }, { name: 'adapter_model.safetensors' }, { name: 'training_args.bin' }];
    expect(mayBeExportZip('training_args.bin', folder)).toBe(false);
    expect(mayBeExportZip('run.zip', folder)).toBe(true);
    // A lone download that lost its .zip name is still recognised by content.
    expect(mayBeExportZip('download', [{ name: 'download' }])).toBe(true);
  });
});
