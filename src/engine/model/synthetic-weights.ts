// Random weights with a model's exact tensor names and shapes, served like a checkpoint. The
// benchmark uses them to measure real model shapes (Qwen2.5-0.5B, Qwen3-0.6B) without a download;
// values are deterministic per tensor name and scaled like an initialised network.
import { expectedTensors, type ModelConfig } from '../../hf-io/config';
import type { Tensor } from '../../hf-io/safetensors';
import type { TensorProvider } from './qwen-weights';

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function syntheticWeights(config: ModelConfig): TensorProvider {
  const shapes = new Map(expectedTensors(config).map((t) => [t.name, t.shape]));
  return {
    names: () => [...shapes.keys()],
    async tensor(name: string): Promise<Tensor> {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`synthetic weights: no tensor ${name}`);
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      let state = hashName(name) || 1;
      const isNorm = name.endsWith('norm.weight');
      const scale = isNorm ? 0.1 : 1 / Math.sqrt(shape[shape.length - 1]);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5; // xorshift32
        const u = (state >>> 0) / 4294967296 - 0.5;
        values[i] = isNorm ? 1 + u * scale : u * 2 * scale;
      }
      return { name, dtype: 'F32', shape: [...shape], bytes: new Uint8Array(values.buffer) };
    },
  };
}
