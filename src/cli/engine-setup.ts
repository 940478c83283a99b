// Shared by the CLI commands that run the model: open a Hugging Face-layout folder, make a Dawn
// device and a QwenEngine, and (when text is involved) the model's own tokenizer.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readAll } from '../hf-io/byte-source';
import { loadModel, type LoadedModel } from '../hf-io/load-model';
import { FsByteCache, NodeDirSource } from '../hf-io/node-sources';
import { loadTokenizer, type QwenTokenizer } from '../hf-io/tokenizer';
import { GpuContext } from '../engine/gpu/context';
import { QwenEngine } from '../engine/engine';
import type { TensorProvider } from '../engine/model/qwen-weights';
import { WEIGHT_FORMATS, type WeightFormat } from '../engine/quant/formats';
import { requestNodeDevice } from '../node/gpu';
import { CliError, oneOf, stringFlag, type Flags } from './flags';

export async function openModelDir(flags: Flags): Promise<LoadedModel> {
  const dir = stringFlag(flags, 'model', true);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`--model ${dir}: not a directory`);
  return loadModel(new NodeDirSource(dir));
}

export function quantFlag(flags: Flags): WeightFormat {
  return oneOf(flags, 'quant', WEIGHT_FORMATS, 'f32')!;
}

/**
 * Where q8/q4 weights are cached between runs: $ASP_WEIGHT_CACHE_DIR ('off' turns the cache off),
 * else agent-safety-playground/quantized-weights under $XDG_CACHE_HOME or ~/.cache.
 */
export function cliWeightCache(env: NodeJS.ProcessEnv = process.env): FsByteCache | undefined {
  const dir = env.ASP_WEIGHT_CACHE_DIR;
  if (dir === 'off') return undefined;
  return new FsByteCache(dir || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'agent-safety-playground', 'quantized-weights'));
}

export async function createCliEngine(
  model: Pick<LoadedModel, 'config'> & { checkpoint: TensorProvider },
  options: { format: WeightFormat; maxContext: number; maxBatch?: number },
): Promise<QwenEngine> {
  const { device } = await requestNodeDevice();
  const maxContext = Math.min(options.maxContext, model.config.maxPositionEmbeddings);
  return QwenEngine.create(new GpuContext(device), model.config, model.checkpoint, {
    format: options.format,
    maxContext,
    maxBatch: options.maxBatch ?? 1,
    weightCache: cliWeightCache(),
  });
}

export async function cliTokenizer(model: LoadedModel, dir: string): Promise<QwenTokenizer> {
  const json = model.files.get('tokenizer.json');
  const config = model.files.get('tokenizer_config.json');
  if (!json || !config) throw new CliError(`${dir}: text needs tokenizer.json and tokenizer_config.json in the model folder (or pass --ids)`);
  return loadTokenizer({ tokenizerJson: await readAll(json), tokenizerConfig: await readAll(config) });
}
