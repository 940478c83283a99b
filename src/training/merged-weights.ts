// A base checkpoint with a LoRA adapter merged in: W' = W + (alpha/r)·B·A for every adapted module.
// The inference engine loads it like any checkpoint (then quantizes as asked), which is how
// `cli logits --adapter` applies a PEFT adapter. Training keeps LoRA separate (train-model.ts).
import { fromFloat32 } from '../hf-io/dtypes';
import { tensorToFloat32, type Tensor } from '../hf-io/safetensors';
import type { TensorProvider } from '../engine/model/qwen-weights';
import type { PeftAdapterConfig } from '../peft/import';

const PEFT_PREFIX = 'base_model.model.';

export function mergeLora(
  base: TensorProvider,
  adapter: ReadonlyMap<string, { shape: number[]; values: Float32Array }>,
  config: PeftAdapterConfig,
): TensorProvider {
  const scaling = config.alpha / config.rank;
  const deltas = new Map<string, { a: { shape: number[]; values: Float32Array }; b: { shape: number[]; values: Float32Array } }>();
  const baseNames = new Set(base.names());
  for (const name of adapter.keys()) {
    const match = /^(.*)\.lora_A\.weight$/.exec(name);
    if (!match) {
      if (!/\.lora_B\.weight$/.test(name)) throw new Error(`adapter tensor ${name} is not a LoRA A/B weight`);
      continue;
    }
    const module = match[1];
    const b = adapter.get(`${module}.lora_B.weight`);
    if (!b) throw new Error(`adapter has ${name} but no ${module}.lora_B.weight`);
    const target = `${module.startsWith(PEFT_PREFIX) ? module.slice(PEFT_PREFIX.length) : module}.weight`;
    if (!baseNames.has(target)) throw new Error(`adapter module ${module} has no base weight ${target} in this model`);
    deltas.set(target, { a: adapter.get(name)!, b });
  }
  return {
    names: () => base.names(),
    async tensor(name: string): Promise<Tensor> {
      const t = await base.tensor(name);
      const delta = deltas.get(name);
      if (!delta) return t;
      const [outF, inF] = t.shape;
      const { a, b } = delta;
      if (a.shape[0] !== config.rank || a.shape[1] !== inF || b.shape[0] !== outF || b.shape[1] !== config.rank) {
        throw new Error(
          `adapter for ${name}: A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] do not fit the base weight [${outF}, ${inF}] at rank ${config.rank}`,
        );
      }
      const w = tensorToFloat32(t);
      const r = config.rank;
      for (let o = 0; o < outF; o++) {
        for (let j = 0; j < r; j++) {
          const s = scaling * b.values[o * r + j];
          if (s === 0) continue;
          const row = o * inF;
          const aRow = j * inF;
          for (let i = 0; i < inF; i++) w[row + i] += s * a.values[aRow + i];
        }
      }
      return { name, dtype: 'F32', shape: t.shape, bytes: fromFloat32(w, 'F32') };
    },
  };
}
