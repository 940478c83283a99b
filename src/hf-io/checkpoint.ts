// A model's weights across one file or several shards, checked against its config: every
// expected tensor present with the right shape, nothing unexpected, index and shards agreeing.
import type { ByteSource } from './byte-source';
import { expectedTensors, type ModelConfig } from './config';
import { ModelLoadError, SafetensorsError } from './errors';
import { SafetensorsFile, type Tensor, type TensorInfo } from './safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const SHARD_INDEX = 'model.safetensors.index.json';

/** Tensors some exporters keep that carry no weights we need. */
const IGNORABLE = /\.rotary_emb\.inv_freq$/;

export interface ShardIndex {
  /** tensor name → shard file name */
  weightMap: Map<string, string>;
  /** shard file names in first-appearance order */
  shards: string[];
}

export function parseShardIndex(text: string, fileName = SHARD_INDEX): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${fileName}: not valid JSON (${(e as Error).message})`);
  }
  const map = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SafetensorsError(`${fileName}: missing "weight_map" object`);
  }
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !/^[\w.-]+\.safetensors$/.test(shard)) {
      throw new SafetensorsError(
        `${fileName}: weight_map entry for tensor "${tensor}" must name a .safetensors file in the same folder, got ${JSON.stringify(shard)}`,
      );
    }
    weightMap.set(tensor, shard);
    if (!shards.includes(shard)) shards.push(shard);
  }
  if (weightMap.size === 0) throw new SafetensorsError(`${fileName}: "weight_map" is empty`);
  return { weightMap, shards };
}

export interface Checkpoint {
  config: ModelConfig;
  files: SafetensorsFile[];
  names(): string[];
  info(name: string): TensorInfo & { file: string };
  tensor(name: string): Promise<Tensor>;
}

/**
 * Opens the weights: `shards` maps file names to sources. With an index, every shard it names
 * must be present and hold exactly the tensors the index assigns to it. Then all tensors are
 * checked against expectedTensors(config).
 */
export async function openCheckpoint(config: ModelConfig, shards: Map<string, ByteSource>, index?: ShardIndex, indexName = SHARD_INDEX): Promise<Checkpoint> {
  const owner = new Map<string, SafetensorsFile>();
  const files: SafetensorsFile[] = [];
  if (index) {
    for (const shard of index.shards) {
      const source = shards.get(shard);
      if (!source) throw new ModelLoadError(`${indexName}: points at shard "${shard}", which is missing (tensor "${firstTensorOf(index, shard)}")`);
      files.push(await SafetensorsFile.open(source));
    }
    for (const [tensor, shard] of index.weightMap) {
      const file = files.find((f) => f.name === shard)!;
      if (!file.has(tensor)) throw new SafetensorsError(`${indexName}: tensor "${tensor}" is assigned to shard "${shard}", but that file does not contain it`);
      owner.set(tensor, file);
    }
    for (const file of files) {
      for (const name of file.names) {
        if (index.weightMap.get(name) !== file.name) throw new SafetensorsError(`${file.name}: tensor "${name}" is not assigned to this shard by ${indexName}`);
      }
    }
  } else {
    const source = shards.get(SINGLE_FILE) ?? (shards.size === 1 ? [...shards.values()][0] : undefined);
    if (!source) throw new ModelLoadError(`no ${SINGLE_FILE} (or ${SHARD_INDEX}) among the model files`);
    const file = await SafetensorsFile.open(source);
    files.push(file);
    for (const name of file.names) owner.set(name, file);
  }
  validateAgainstConfig(config, new Map([...owner].map(([name, f]) => [name, { shape: f.info(name).shape, file: f.name }])));
  return {
    config,
    files,
    names: () => [...owner.keys()],
    info(name) {
      const f = owner.get(name);
      if (!f) throw new ModelLoadError(`checkpoint has no tensor "${name}"`);
      return { ...f.info(name), file: f.name };
    },
    tensor(name) {
      const f = owner.get(name);
      if (!f) throw new ModelLoadError(`checkpoint has no tensor "${name}"`);
      return f.tensor(name);
    },
  };
}

function firstTensorOf(index: ShardIndex, shard: string): string {
  for (const [t, s] of index.weightMap) if (s === shard) return t;
  return '';
}

/**
 * Throws a ModelLoadError listing every missing, unexpected and mis-shaped tensor (first few of
 * each, with the file). A tied model may still carry lm_head.weight; that is accepted.
 */
export function validateAgainstConfig(config: ModelConfig, found: Map<string, { shape: number[]; file: string }>) {
  const expected = expectedTensors(config);
  const expectedNames = new Set(expected.map((t) => t.name));
  const problems: string[] = [];
  const missing = expected.filter((t) => !found.has(t.name));
  if (missing.length) problems.push(`missing ${list(missing.map((t) => `"${t.name}" ${JSON.stringify(t.shape)}`))}`);
  for (const t of expected) {
    const f = found.get(t.name);
    if (f && !sameShape(f.shape, t.shape))
      problems.push(`${f.file}: tensor "${t.name}" has shape ${JSON.stringify(f.shape)}, expected ${JSON.stringify(t.shape)}`);
  }
  const tiedHead = config.tieWordEmbeddings ? found.get('lm_head.weight') : undefined;
  if (tiedHead && !sameShape(tiedHead.shape, [config.vocabSize, config.hiddenSize])) {
    problems.push(
      `${tiedHead.file}: tensor "lm_head.weight" has shape ${JSON.stringify(tiedHead.shape)}, expected ${JSON.stringify([config.vocabSize, config.hiddenSize])}`,
    );
  }
  const unexpected = [...found].filter(([name]) => !expectedNames.has(name) && !IGNORABLE.test(name) && !(tiedHead && name === 'lm_head.weight'));
  if (unexpected.length) problems.push(`unexpected ${list(unexpected.map(([n, f]) => `"${n}" in ${f.file}`))}`);
  if (problems.length) {
    throw new ModelLoadError(
      `weights do not match config (${config.architecture}, ${config.numLayers} layers): ${problems.slice(0, 6).join('; ')}${problems.length > 6 ? `; and ${problems.length - 6} more problems` : ''}`,
    );
  }
}

function sameShape(a: number[], b: number[]) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function list(items: string[]): string {
  const shown = items.slice(0, 4).join(', ');
  return items.length > 4 ? `${items.length} tensors: ${shown}, ...` : `tensor${items.length > 1 ? 's' : ''} ${shown}`;
}
