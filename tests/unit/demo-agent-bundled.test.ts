// How the app serves the demo agent (issue #13 item 3), GPU-free: bundled-files.ts finds every
// file the registry lists for models/demo-agent among the build's own files (Vite globs, also under
// vitest), UrlFilesSource loads the model from those URLs through the same loadModel as every model,
// and a missing file is a clear error; built-in adapters are matched to their stored checkpoint.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinAdapters, BUNDLED_MODELS, bundledModelFiles } from '../../src/app/bundled-files';
import { storedBuiltin, trainerStateStep, type BuiltinAdapterInfo } from '../../src/app/builtin-adapters';
import { paramCount } from '../../src/hf-io/config';
import { loadModel } from '../../src/hf-io/load-model';
import { findModel } from '../../src/hf-io/registry';
import { ModelFileNotFoundError } from '../../src/hf-io/sources';
import { UrlFilesSource } from '../../src/hf-io/url-files-source';

/** Serves the repository's files at their path (what the dev server does; the build hashes names). */
const diskFetch: typeof fetch = async (input) => {
  const path = new URL(String(input)).pathname;
  try {
    return new Response(readFileSync(`.${path}`));
  } catch {
    return new Response('not found', { status: 404 });
  }
};

describe('demo agent as part of the app', () => {
  const entry = findModel('demo-agent');

  it('the registry lists it as bundled, and every file it names is among the served files', () => {
    expect(BUNDLED_MODELS.map((m) => m.id)).toEqual(['demo-agent']);
    if (entry.source !== 'bundled') throw new Error('demo-agent must be a bundled entry');
    const files = bundledModelFiles(entry);
    expect(files.map((f) => f.name).sort()).toEqual([...entry.files].sort());
    for (const f of files) expect(new URL(f.url).pathname).toBe(`/models/demo-agent/${f.name}`);
    expect(() => bundledModelFiles({ ...entry, path: 'models/not-there' })).toThrow(`${entry.label}: this build of the app lacks models/not-there/config.json`);
  });

  it('loads through UrlFilesSource and loadModel; its label states the parameter count of its config', async () => {
    if (entry.source !== 'bundled') throw new Error('demo-agent must be a bundled entry');
    const model = await loadModel(new UrlFilesSource(bundledModelFiles(entry), entry.label, diskFetch));
    expect(model.config.architecture).toBe('Qwen2ForCausalLM');
    expect(paramCount(model.config)).toBe(entry.params);
    expect(entry.label).toContain(`${(entry.params / 1e6).toFixed(1).replace(/\.0$/, '')}M params`);
    expect(model.files.get('tokenizer.json')!.size).toBe(readFileSync('models/demo-agent/tokenizer.json').byteLength);
  });

  it('a file that is not served is a ModelFileNotFoundError naming it; other HTTP errors name the status', async () => {
    const source = new UrlFilesSource([{ name: 'config.json', url: 'http://app.test/models/none/config.json' }], 'Some model', diskFetch);
    await expect(source.open('config.json')).rejects.toThrow(ModelFileNotFoundError);
    await expect(source.open('config.json')).rejects.toThrow('Some model: config.json is not served (HTTP 404 at http://app.test/models/none/config.json)');
    await expect(source.open('model.safetensors')).rejects.toThrow('model.safetensors: not among the files of Some model (config.json)');
    const failing = new UrlFilesSource([{ name: 'config.json', url: 'http://app.test/x' }], 'Some model', async () => new Response('', { status: 500 }));
    await expect(failing.open('config.json')).rejects.toThrow('Some model: config.json: HTTP 500 at http://app.test/x');
  });

  it('built-in adapters are the PEFT folders inside a bundled model folder; a stored one is found by name and step', () => {
    for (const a of builtinAdapters()) {
      expect(a.path.startsWith('models/demo-agent/')).toBe(true);
      expect(a.files.map((f) => f.name)).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors']));
    }
    const info = { name: 'aligned', step: 40 } as BuiltinAdapterInfo;
    expect(
      storedBuiltin(info, [
        { id: 'a', name: 'aligned', step: 39 },
        { id: 'b', name: 'aligned', step: 40 },
      ]),
    ).toBe('b');
    expect(storedBuiltin(info, [{ id: 'a', name: 'other', step: 40 }])).toBeUndefined();
    // Without a sidecar the step comes from the CLI trainer's trainer_state.json.
    expect(trainerStateStep('{"step": 40, "optimizer_step": 40}', 'x/trainer_state.json')).toBe(40);
    expect(() => trainerStateStep('{"step": -1}', 'x/trainer_state.json')).toThrow('x/trainer_state.json: "step" must be a whole number ≥ 0, got -1');
    expect(() => trainerStateStep('{"step": ', 'x/trainer_state.json')).toThrow(/^x\/trainer_state\.json: not valid JSON/);
  });
});
