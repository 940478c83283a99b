// The adapter of the PEFT round-trip fixture (tests/fixtures/peft-roundtrip/adapter/): deterministic
// pseudo-random LoRA A and B for tests/fixtures/models/qwen2-tiny-gqa (rank 3, alpha 6, all seven
// target modules), written by our own exportPeftAdapter. peft_roundtrip.py then loads it with
// PeftModel.from_pretrained and records PEFT's logits. The GPU test re-runs this generator and
// requires byte-identical files, so the fixture cannot drift from the exporter.
//
//   npx tsx tools/reference/make_ts_adapter.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseModelConfig, type ModelConfig } from '../../src/hf-io/config';
import { exportPeftAdapter, type PeftAdapterFiles } from '../../src/peft/export';
import type { PeftTensor } from '../../src/peft/import';
import { peftLoraTensorName } from '../../src/checkpoints/peft-names';
import { LORA_TARGETS, loraTargetLayout } from '../../src/engine/ops/lora-targets';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ROUNDTRIP_MODEL = 'qwen2-tiny-gqa';
export const ROUNDTRIP_MODEL_DIR = join(REPO_ROOT, 'tests/fixtures/models', ROUNDTRIP_MODEL);
export const ROUNDTRIP_DIR = join(REPO_ROOT, 'tests/fixtures/peft-roundtrip');
export const ROUNDTRIP_ADAPTER_DIR = join(ROUNDTRIP_DIR, 'adapter');
/** Different from the PEFT fixture's (r 4, alpha 8), so a hard-coded rank or scaling shows. */
export const ROUNDTRIP_LORA = { rank: 3, alpha: 6, targets: [...LORA_TARGETS], seed: 0x5eed1 } as const;

/** mulberry32: a tiny seeded generator, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A ~ U(±1/√in) as PEFT's init, B ~ U(±0.25) instead of PEFT's zeros, so the adapter moves the
 * logits visibly (the delta 2·B·A is about a quarter of the base weights' scale).
 */
export function roundTripAdapterTensors(config: ModelConfig): Map<string, PeftTensor> {
  const { rank, targets, seed } = ROUNDTRIP_LORA;
  const rand = mulberry32(seed);
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);
  const tensors = new Map<string, PeftTensor>();
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const target of targets) {
      const { inFeatures, outFeatures } = loraTargetLayout(config, target);
      tensors.set(peftLoraTensorName(layer, target, 'A'), { shape: [rank, inFeatures], values: uniform(rank * inFeatures, 1 / Math.sqrt(inFeatures)) });
      tensors.set(peftLoraTensorName(layer, target, 'B'), { shape: [outFeatures, rank], values: uniform(outFeatures * rank, 0.25) });
    }
  }
  return tensors;
}

export function roundTripAdapterFiles(): PeftAdapterFiles {
  const config = parseModelConfig(readFileSync(join(ROUNDTRIP_MODEL_DIR, 'config.json'), 'utf8'));
  return exportPeftAdapter({
    tensors: roundTripAdapterTensors(config),
    rank: ROUNDTRIP_LORA.rank,
    alpha: ROUNDTRIP_LORA.alpha,
    targetModules: ROUNDTRIP_LORA.targets,
    baseModel: { repo: `tests/fixtures/models/${ROUNDTRIP_MODEL}` },
  });
}

function main() {
  mkdirSync(ROUNDTRIP_ADAPTER_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(roundTripAdapterFiles())) {
    writeFileSync(join(ROUNDTRIP_ADAPTER_DIR, name), bytes);
    console.log(`wrote ${join(ROUNDTRIP_ADAPTER_DIR, name)} (${bytes.byteLength} bytes)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
