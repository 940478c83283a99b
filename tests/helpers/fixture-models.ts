// Access to the Hugging Face reference fixtures (tests/fixtures/models, made by tools/reference).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type LoadedModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';

export const FIXTURE_MODELS_DIR = join(process.cwd(), 'tests/fixtures/models');
export const FIXTURE_MODEL_NAMES = ['qwen2-tiny-gqa', 'qwen2-tiny-tied', 'qwen3-tiny', 'qwen2-tiny-gqa-bf16'] as const;

export interface ReferenceRow {
  input_ids: number[];
  logits: number[][];
  logprobs: number[];
}

export interface ModelReference extends ReferenceRow {
  logits_std: number;
  greedy: { prompt_ids: number[]; new_ids: number[] };
  second_row: ReferenceRow;
}

export function fixtureDir(name: string): string {
  return join(FIXTURE_MODELS_DIR, name);
}

export function loadReference(name: string): ModelReference {
  return JSON.parse(readFileSync(join(fixtureDir(name), 'reference.json'), 'utf8'));
}

export function loadFixtureModel(name: string): Promise<LoadedModel> {
  return loadModel(new NodeDirSource(fixtureDir(name)));
}
