// The LoRA adapter on the GPU: for each layer and target module, A [r, in] and B [out, r] (f32),
// their gradients, and the u = x·Aᵀ scratch the backward needs. Tensor names are PEFT's, so an
// adapter round-trips through adapter_model.safetensors unchanged.
import type { ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../../engine/gpu/context';
import type { LoraModuleBuffers } from '../../engine/ops/lora';
import { LORA_TARGETS, loraTargetLayout, type LoraTarget, type LoraTargetLayout } from '../../engine/ops/lora-targets';
import { plannedBuffers } from '../../engine/model/buffer-plan';
import { createPlanned } from '../../engine/gpu/planned';
import { loraModules, planLoraAdapter } from './train-plan';

export interface LoraConfig {
  rank: number;
  alpha: number;
  targets: readonly LoraTarget[];
}

export interface LoraModule extends LoraModuleBuffers {
  layer: number;
  target: LoraTarget;
  layout: LoraTargetLayout;
  /** PEFT tensor names of A and B. */
  peftA: string;
  peftB: string;
  dA: GPUBuffer;
  dB: GPUBuffer;
}

export { peftModuleName } from './train-plan';

/** Deterministic PRNG for initialisation (xorshift32 → uniform [0, 1)). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export class LoraAdapter {
  readonly modules: LoraModule[] = [];
  /** modules by layer, then target. */
  readonly byLayer: Map<LoraTarget, LoraModule>[] = [];

  constructor(
    readonly ctx: GpuContext,
    readonly modelConfig: ModelConfig,
    readonly config: LoraConfig,
  ) {
    const { rank, alpha, targets } = config;
    if (!Number.isInteger(rank) || rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${rank}`);
    if (!(alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${alpha}`);
    for (const t of targets) if (!LORA_TARGETS.includes(t)) throw new Error(`unknown LoRA target module '${t}' (expected ${LORA_TARGETS.join(', ')})`);
    // Sizes from the training size table (train-plan.ts), each planned buffer made here by name.
    const planned = plannedBuffers(planLoraAdapter(modelConfig, config), 'LoRA adapter');
    for (let layer = 0; layer < modelConfig.numLayers; layer++) this.byLayer.push(new Map());
    for (const { layer, target, name } of loraModules(modelConfig, config)) {
      const layout = loraTargetLayout(modelConfig, target);
      const take = (label: string) => createPlanned(ctx, planned.take(`${name}.${label}`));
      const module: LoraModule = {
        name,
        layer,
        target,
        layout,
        rank,
        scaling: alpha / rank,
        inFeatures: layout.inFeatures,
        outFeatures: layout.outFeatures,
        a: take('lora_A'),
        b: take('lora_B'),
        dA: take('lora_A.grad'),
        dB: take('lora_B.grad'),
        peftA: `${name}.lora_A.weight`,
        peftB: `${name}.lora_B.weight`,
      };
      this.modules.push(module);
      this.byLayer[layer].set(target, module);
    }
    planned.done();
  }

  /** PEFT's default init: A ~ kaiming-uniform(a=√5) = U(−1/√in, 1/√in), B = 0 (the adapter starts as a no-op). */
  initialise(seed: number) {
    const rand = uniform(seed);
    for (const m of this.modules) {
      const bound = 1 / Math.sqrt(m.inFeatures);
      const a = new Float32Array(m.rank * m.inFeatures).map(() => (rand() * 2 - 1) * bound);
      this.ctx.write(m.a, a);
      this.ctx.write(m.b, new Float32Array(m.outFeatures * m.rank));
    }
  }

  /** Loads tensors by PEFT name (shape-checked). Every module's A and B must be present. */
  load(tensors: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>) {
    for (const m of this.modules) {
      for (const [name, buffer, shape] of [
        [m.peftA, m.a, [m.rank, m.inFeatures]],
        [m.peftB, m.b, [m.outFeatures, m.rank]],
      ] as const) {
        const t = tensors.get(name);
        if (!t) throw new Error(`adapter is missing tensor ${name}`);
        if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])
          throw new Error(`adapter tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
        this.ctx.write(buffer, t.values);
      }
    }
  }

  /** Parameter/gradient pairs for the optimizer. */
  parameters(): { name: string; param: GPUBuffer; grad: GPUBuffer; length: number }[] {
    return this.modules.flatMap((m) => [
      { name: m.peftA, param: m.a, grad: m.dA, length: m.rank * m.inFeatures },
      { name: m.peftB, param: m.b, grad: m.dB, length: m.outFeatures * m.rank },
    ]);
  }

  encodeZeroGrad(encoder: GPUCommandEncoder) {
    for (const m of this.modules) {
      encoder.clearBuffer(m.dA);
      encoder.clearBuffer(m.dB);
    }
  }

  /** Reads parameters (or gradients) back, by PEFT name. */
  async read(which: 'params' | 'grads'): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const m of this.modules) {
      const [a, b] = which === 'params' ? [m.a, m.b] : [m.dA, m.dB];
      out.set(m.peftA, { shape: [m.rank, m.inFeatures], values: new Float32Array(await this.ctx.read(a, m.rank * m.inFeatures * 4)) });
      out.set(m.peftB, { shape: [m.outFeatures, m.rank], values: new Float32Array(await this.ctx.read(b, m.outFeatures * m.rank * 4)) });
    }
    return out;
  }

  destroy() {
    for (const m of this.modules) for (const b of [m.a, m.b, m.dA, m.dB]) this.ctx.destroy(b);
  }
}
