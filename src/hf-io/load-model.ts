// One call from a ModelSource to a validated config + checkpoint (+ the other files opened, e.g.
// tokenizer.json for the tokenizer module). Single-file or sharded weights are both handled.
import { readText, type ByteSource } from './byte-source';
import { openCheckpoint, parseShardIndex, SHARD_INDEX, SINGLE_FILE, type Checkpoint } from './checkpoint';
import { parseModelConfig, type ModelConfig } from './config';
import { ModelLoadError } from './errors';
import { ModelFileNotFoundError, openModelFiles, type ModelSource, type OpenFilesOptions } from './sources';

export const DEFAULT_EXTRA_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;

export interface LoadModelOptions extends Omit<OpenFilesOptions, 'optional'> {
  /** Files besides config and weights; default DEFAULT_EXTRA_FILES, all optional. */
  extraFiles?: readonly string[];
  /** Set true to go straight to model.safetensors.index.json (saves one 404 on sharded repos). */
  sharded?: boolean;
}

export interface LoadedModel {
  config: ModelConfig;
  checkpoint: Checkpoint;
  /** Every file opened, by name (config.json, weights, tokenizer files that exist). */
  files: Map<string, ByteSource>;
}

export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const extra = options.extraFiles ?? DEFAULT_EXTRA_FILES;
  const head = ['config.json', ...extra];
  let files: Map<string, ByteSource> | undefined;
  if (!options.sharded) {
    // One call for the common single-file layout, so overall progress covers the whole model.
    try {
      files = await openModelFiles(source, [...head, SINGLE_FILE], { ...options, optional: extra });
    } catch (e) {
      if (!(e instanceof ModelFileNotFoundError && e.file === SINGLE_FILE)) throw e;
    }
  }
  if (files) {
    const config = parseModelConfig(await readText(files.get('config.json')!), 'config.json');
    return { config, checkpoint: await openCheckpoint(config, files), files };
  }
  files = await openModelFiles(source, [...head, SHARD_INDEX], { ...options, optional: extra });
  const config = parseModelConfig(await readText(files.get('config.json')!), 'config.json');
  const index = parseShardIndex(await readText(files.get(SHARD_INDEX)!), SHARD_INDEX);
  let shards: Map<string, ByteSource>;
  try {
    shards = await openModelFiles(source, index.shards, options);
  } catch (e) {
    if (e instanceof ModelFileNotFoundError) throw new ModelLoadError(`${SHARD_INDEX}: points at shard "${e.file}", which is missing (${e.message})`);
    throw e;
  }
  for (const [k, v] of shards) files.set(k, v);
  return { config, checkpoint: await openCheckpoint(config, shards, index), files };
}
