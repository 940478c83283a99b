// Deterministic checkpoint data for the store tests (Node and Chromium): LoRA A/B pairs for a few
// layers with PEFT names, AdamW moments, RNG state, config and metrics. Values include NaN
// payloads, -0, infinities and denormals so "bit-identical" is really checked.
import type { CheckpointData, ModelIdentity, TensorMap } from '../../../src/checkpoints/types';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Random bit patterns (any float32, NaNs with payloads included) plus a few special values. */
export function randomFloats(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = next();
  const specials = [0x80000000, 0x7fc00001, 0xffa00005, 0x7f800000, 0x00000001];
  for (let i = 0; i < specials.length && i < n; i++) bits[(i * 7) % n] = specials[i];
  return new Float32Array(bits.buffer);
}

export const FIXTURE_IDENTITY: ModelIdentity = {
  repo: 'Qwen/Qwen2.5-0.5B-Instruct',
  revision: 'main',
  configSha256: 'a'.repeat(64),
  weightsSha256: 'b'.repeat(64),
  files: [{ name: 'model.safetensors', size: 1234, method: 'sampled', digest: 'c'.repeat(64) }],
  scheme: 'sampled-v1',
};

export interface FixtureOptions {
  name?: string;
  step?: number;
  seed?: number;
  layers?: number;
  rank?: number;
  hidden?: number;
  baseModel?: ModelIdentity;
}

export function makeCheckpoint(opts: FixtureOptions = {}): CheckpointData {
  const { name = 'run-1', step = 10, seed = 1, layers = 2, rank = 4, hidden = 24 } = opts;
  const adapter: TensorMap = {};
  const m: TensorMap = {};
  const v: TensorMap = {};
  let s = seed * 1000;
  const modules: [string, number][] = [
    ['self_attn.q_proj', hidden],
    ['self_attn.v_proj', hidden / 2],
    ['mlp.down_proj', hidden],
  ];
  for (let layer = 0; layer < layers; layer++) {
    for (const [module, out] of modules) {
      const prefix = `base_model.model.model.layers.${layer}.${module}`;
      const shapes: [string, number[]][] = [
        [`${prefix}.lora_A.weight`, [rank, hidden]],
        [`${prefix}.lora_B.weight`, [out, rank]],
      ];
      for (const [key, shape] of shapes) {
        const n = shape[0] * shape[1];
        adapter[key] = { shape, data: randomFloats(n, s++) };
        m[key] = { shape, data: randomFloats(n, s++) };
        v[key] = { shape, data: randomFloats(n, s++) };
      }
    }
  }
  return {
    name,
    step,
    baseModel: opts.baseModel ?? FIXTURE_IDENTITY,
    lora: { rank, alpha: 2 * rank, targetModules: ['q_proj', 'v_proj', 'down_proj'], dropout: 0 },
    adapter,
    optimizer: { step, m, v },
    rng: { algorithm: 'mulberry32', state: [mulberry32(seed)()] },
    trainerConfig: { lr: 1e-5, groupSize: 4, kl: { beta: 0.04 }, scenarios: ['benign', 'malicious'], note: '<script>"x"</script>' },
    metrics: Array.from({ length: step }, (_, i) => ({ step: i, reward: i / 10, loss: i === 3 ? Number.NaN : 1 / (i + 1), refusals: [i, i + 1] })),
  };
}

/** Exact comparison of two float tensors by bit pattern (NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Every tensor of `a` is in `b` with the same shape and bits; returns the first difference. */
export function tensorMapDifference(a: TensorMap, b: TensorMap): string | undefined {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join('|') !== kb.join('|')) return `names differ: ${ka.length} vs ${kb.length}`;
  for (const k of ka) {
    if (a[k].shape.join(',') !== b[k].shape.join(',')) return `${k}: shape [${a[k].shape}] vs [${b[k].shape}]`;
    if (!sameBits(a[k].data, b[k].data)) return `${k}: bits differ`;
  }
  return undefined;
}
