// Cheap stand-in weights with a model's exact tensor names and shapes: each tensor is one short
// pseudo-random block repeated (a prime length, so q4/q8 groups of 32 still see varied values).
// Filling by doubling copies costs a memcpy per tensor instead of one PRNG call per value, which
// makes building a 0.5B-shape model for the memory check several seconds faster on a slow CPU.
// Kernel speed and memory do not depend on the values; use syntheticWeights where they must look
// like an initialised network end to end.
import { expectedTensors, type ModelConfig } from '../../hf-io/config';
import type { Tensor } from '../../hf-io/safetensors';
import type { TensorProvider } from '../../engine/model/qwen-weights';

const BLOCK = 4093;

function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

export function tiledWeights(config: ModelConfig): TensorProvider {
  const shapes = new Map(expectedTensors(config).map((t) => [t.name, t.shape]));
  return {
    names: () => [...shapes.keys()],
    async tensor(name: string): Promise<Tensor> {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`tiled weights: no tensor ${name}`);
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      const isNorm = name.endsWith('norm.weight');
      const scale = isNorm ? 0.1 : 2 / Math.sqrt(shape[shape.length - 1]);
      let state = seedOf(name);
      const head = Math.min(n, BLOCK);
      for (let i = 0; i < head; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const u = (state >>> 0) / 4294967296 - 0.5;
        values[i] = (isNorm ? 1 : 0) + u * scale;
      }
      for (let filled = head; filled < n; filled *= 2) values.copyWithin(filled, 0, Math.min(filled, n - filled));
      return { name, dtype: 'F32', shape: [...shape], bytes: new Uint8Array(values.buffer) };
    },
  };
}
