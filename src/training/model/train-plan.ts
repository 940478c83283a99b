// The training size table: every GPU buffer a GRPO step adds to the engine (the training model's
// activations and gradients, the LoRA adapter, AdamW's state, the inference LoRA scratch, the
// log-prob readback) as named entries with exact byte sizes, from the model config and settings
// alone. GPU-free, so the Train tab shows a run's memory before it starts. TrainingModel,
// LoraAdapter and AdamW create their buffers FROM these entries by name (plannedBuffers), so the
// estimate is the sum of what they allocate (tests/gpu/engine/buffer-plan.test.ts).
import type { ModelConfig } from '../../hf-io/config';
import {
  LOGITS_BUDGET_BYTES,
  planEngine,
  planInferenceLora,
  planSummary,
  storageBytes,
  words,
  type EnginePlan,
  type EnginePlanOptions,
  type PlannedBuffer,
} from '../../engine/model/buffer-plan';
import { LORA_TARGETS, loraTargetLayout, type LoraTarget } from '../../engine/ops/lora-targets';
import { DEFAULT_GRPO_CONFIG, type GrpoConfig } from '../grpo/config';
import { ADAMW_STEP_UNIFORM_BYTES } from '../optim/adamw';
import { GRAD_NORM_RESULT_BYTES, gradNormPartialsBytes } from '../optim/grad-norm';

export interface TrainPlan {
  /** B: most rows per micro-batch. */
  sequences: number;
  /** T: most tokens per row (a micro-batch pads its rows to its own longest, bucketed). A packed
   *  row may be longer than the engine's context; each sequence in it may not. */
  seqLen: number;
  /** Re-run each layer's forward during backward instead of keeping every layer's activations. */
  recompute: boolean;
  /** Rows of logits computed at once; default min(rows, what fits in 64 MiB). */
  lmHeadRows?: number;
}

export interface LoraShape {
  rank: number;
  targets: readonly LoraTarget[];
}

/** Rows of logits the training LM head computes at once. */
export function trainLmHeadRows(config: Pick<ModelConfig, 'vocabSize'>, plan: TrainPlan): number {
  return Math.max(1, Math.min(plan.sequences * plan.seqLen, plan.lmHeadRows ?? Math.floor(LOGITS_BUDGET_BYTES / (config.vocabSize * 4))));
}

/**
 * TrainingModel's buffers (train-model.ts says what each holds): the input of every layer, one
 * set of layer activations (recompute) or one per layer, and the step's inputs and gradients.
 */
export function planTrainingModel(config: ModelConfig, plan: TrainPlan, lora: LoraShape): PlannedBuffer[] {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V, numLayers: L } = config;
  const { sequences: B, seqLen: T } = plan;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 2) throw new Error(`training plan needs ≥1 sequence of ≥2 tokens, got ${B} × ${T}`);
  const N = B * T;
  const qkvWidth = (nH + 2 * nKv) * d;
  const r = lora.rank;
  const C = trainLmHeadRows(config, plan);
  const a = (name: string, count: number) => words(`train.${name}`, count, 'activations');
  const out: PlannedBuffer[] = [];
  for (let l = 0; l <= L; l++) out.push(a(`layerInput${l}`, N * H));
  for (let i = 0; i < (plan.recompute ? 1 : L); i++) {
    out.push(a(`normed1.${i}`, N * H));
    if (config.qkNorm) out.push(a(`qkvPreNorm.${i}`, N * qkvWidth));
    out.push(
      a(`qkv.${i}`, N * qkvWidth),
      a(`attention.${i}`, N * nH * d),
      a(`lse.${i}`, N * nH),
      a(`residMid.${i}`, N * H),
      a(`normed2.${i}`, N * H),
      a(`gateUp.${i}`, N * 2 * I),
      a(`mlpHidden.${i}`, N * I),
    );
    for (const t of lora.targets) out.push(a(`u.${t}.${i}`, N * r));
  }
  out.push(
    a('ids', N),
    a('positions', N),
    a('segments', N * 4),
    a('targets', N),
    a('weights', N),
    a('logProbs', N),
    a('normedF', N * H),
    a('dResid', N * H),
    a('dNormed', N * H),
    a('dAttention', N * nH * d),
    a('dQkv', N * qkvWidth),
    a('dGateUp', N * 2 * I),
    a('dMlpHidden', N * I),
    a('du', N * r),
    a('delta', N * nH),
    a('logits', C * V),
    a('chunkTargets', C),
    a('chunkWeights', C),
    a('chunkLogProbs', C),
    a('chunkDx', C * H),
  );
  return out;
}

export function peftModuleName(layer: number, target: LoraTarget): string {
  const block = target.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(target) ? 'mlp' : 'self_attn';
  return `base_model.model.model.layers.${layer}.${block}.${target}`;
}

/** The adapter's modules in allocation order: every layer, the targets in LORA_TARGETS order. */
export function loraModules(
  config: ModelConfig,
  lora: LoraShape,
): { layer: number; target: LoraTarget; name: string; inFeatures: number; outFeatures: number }[] {
  const list = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const target of LORA_TARGETS.filter((t) => lora.targets.includes(t))) {
      const { inFeatures, outFeatures } = loraTargetLayout(config, target);
      list.push({ layer, target, name: peftModuleName(layer, target), inFeatures, outFeatures });
    }
  }
  return list;
}

/** A (rank × in) and B (out × rank) of every module, and their gradients. */
export function planLoraAdapter(config: ModelConfig, lora: LoraShape): PlannedBuffer[] {
  return loraModules(config, lora).flatMap(({ name, inFeatures, outFeatures }) => [
    words(`${name}.lora_A`, lora.rank * inFeatures, 'lora'),
    words(`${name}.lora_B`, outFeatures * lora.rank, 'lora'),
    words(`${name}.lora_A.grad`, lora.rank * inFeatures, 'lora'),
    words(`${name}.lora_B.grad`, outFeatures * lora.rank, 'lora'),
  ]);
}

/** The adapter's parameters as the optimizer sees them (LoraAdapter.parameters(): PEFT names, f32 counts). */
export function loraParameters(config: ModelConfig, lora: LoraShape): { name: string; length: number }[] {
  return loraModules(config, lora).flatMap(({ name, inFeatures, outFeatures }) => [
    { name: `${name}.lora_A.weight`, length: lora.rank * inFeatures },
    { name: `${name}.lora_B.weight`, length: outFeatures * lora.rank },
  ]);
}

/** AdamW's buffers: m and v per tensor, the grad-norm partials and result, the step uniform and the result's readback. */
export function planAdamW(params: readonly { name: string; length: number }[]): PlannedBuffer[] {
  return [
    ...params.map((p) => words(`adamw.m.${p.name}`, p.length, 'optimizer')),
    ...params.map((p) => words(`adamw.v.${p.name}`, p.length, 'optimizer')),
    { name: 'adamw.gradNormPartials', bytes: storageBytes(gradNormPartialsBytes(params.map((p) => p.length))), kind: 'optimizer' },
    { name: 'adamw.gradNorm', bytes: storageBytes(GRAD_NORM_RESULT_BYTES), kind: 'optimizer' },
    { name: 'adamw.step', bytes: ADAMW_STEP_UNIFORM_BYTES, kind: 'uniform' },
    { name: 'adamw.readback', bytes: GRAD_NORM_RESULT_BYTES, kind: 'readback' },
  ];
}

export type GrpoRowSettings = Pick<GrpoConfig, 'sharePrefix' | 'packedRowTokens' | 'maxSequenceTokens' | 'microBatch' | 'recompute'>;

/** The training model's plan for GRPO settings: one packed row of a group when sharing, else microBatch rows. */
export function grpoTrainPlan(c: GrpoRowSettings): TrainPlan {
  const rows = c.sharePrefix
    ? { sequences: 1, seqLen: Math.max(c.packedRowTokens, c.maxSequenceTokens) }
    : { sequences: c.microBatch, seqLen: c.maxSequenceTokens };
  return { ...rows, recompute: c.recompute };
}

/** The playground's training settings (worker-api/training-session.ts): micro-batch 1, recomputation, sequences up to the engine's context. */
export function playgroundTrainingRows(maxContext: number): Pick<GrpoConfig, 'microBatch' | 'maxSequenceTokens' | 'recompute'> {
  return { microBatch: 1, maxSequenceTokens: maxContext, recompute: true };
}

export interface GrpoStepPlan {
  engine: EnginePlan;
  trainPlan: TrainPlan;
  /** What a step adds to the engine: inference LoRA scratch, training model, adapter, AdamW, the log-prob readback of a forward. */
  training: PlannedBuffer[];
  /** Engine and training together. */
  buffers: PlannedBuffer[];
}

/**
 * Every buffer of a GRPO step: the engine (`engine` options), the adapter and AdamW over its
 * parameters, the training model for `rows`. Not in it: the per-dispatch uniforms a step caches
 * (a few KB) and the 8-byte adapter fingerprint generation makes.
 */
export function planGrpoStep(config: ModelConfig, engine: EnginePlanOptions, lora: LoraShape, rows: GrpoRowSettings): GrpoStepPlan {
  const enginePlan = planEngine(config, engine);
  const trainPlan = grpoTrainPlan(rows);
  const training = [
    planInferenceLora(enginePlan.maxStepTokens, lora.rank),
    ...planTrainingModel(config, trainPlan, lora),
    ...planLoraAdapter(config, lora),
    ...planAdamW(loraParameters(config, lora)),
    { name: 'log-prob readback', bytes: storageBytes(trainPlan.sequences * trainPlan.seqLen * 4), kind: 'readback' as const },
  ];
  return { engine: enginePlan, trainPlan, training, buffers: [...enginePlan.buffers, ...training] };
}

export interface TrainingMemory {
  /** The engine as loaded (weights, KV cache, activations, its readback). */
  engine: number;
  /** LoRA parameters, gradients and the inference scratch. */
  lora: number;
  /** AdamW's moments and scratch. */
  optimizer: number;
  /** The training model's activations and gradients, and the step's readbacks and uniform. */
  activations: number;
  total: number;
}

/**
 * GPU memory of a playground training run (the Train tab's figure): the loaded engine plus what a
 * GRPO step adds with LoRA rank `rank` on all 7 modules and the playground's settings
 * (DEFAULT_GRPO_CONFIG's shared-prefix rows, playgroundTrainingRows).
 */
export function playgroundTrainingMemory(config: ModelConfig, engine: EnginePlanOptions, rank: number): TrainingMemory {
  const rows = { ...DEFAULT_GRPO_CONFIG, ...playgroundTrainingRows(engine.maxContext) };
  const plan = planGrpoStep(config, engine, { rank, targets: LORA_TARGETS }, rows);
  const e = planSummary(plan.engine.buffers).total;
  const t = planSummary(plan.training);
  return { engine: e, lora: t.lora, optimizer: t.optimizer, activations: t.activations + t.readback + t.uniform + t.scratch, total: e + t.total };
}
