// Opening a PEFT adapter directory for the CLI (adapter_config.json + adapter_model.safetensors),
// through the same importer as the app: `.default` tensor names, every shape and rank check.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFileSource } from '../hf-io/node-sources';
import { importPeftAdapter, type PeftAdapterConfig } from '../peft/import';
import { CliError } from './flags';

export async function openPeftAdapter(dir: string): Promise<{ config: PeftAdapterConfig; tensors: Map<string, { shape: number[]; values: Float32Array }> }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`--adapter ${dir}: not a directory`);
  const configPath = join(dir, 'adapter_config.json');
  const weightsPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(configPath)) throw new CliError(`--adapter ${dir}: adapter_config.json is missing`);
  if (!existsSync(weightsPath)) throw new CliError(`--adapter ${dir}: adapter_model.safetensors is missing`);
  try {
    const { config, tensors } = await importPeftAdapter({ config: readFileSync(configPath), weights: await nodeFileSource(weightsPath) });
    return { config, tensors };
  } catch (e) {
    throw new CliError(`--adapter ${dir}: ${(e as Error).message}`);
  }
}
