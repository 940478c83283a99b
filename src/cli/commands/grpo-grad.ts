// npm run cli -- grpo-grad --model DIR --adapter DIR --batch FILE.json --out FILE.safetensors
// Our GRPO loss and its LoRA gradients for a given batch, so the objective can be checked against
// TRL's (tools/reference/trl_grpo_reference.py computes TRL's for the same batch). The batch is
//   {"prompt_ids": [[...]], "completion_ids": [[...]], "advantages": [...], "old_logprobs": [[...]],
//    "ref_logprobs": [[...]] | null, "beta": 0.04, "epsilon": 0.2, "loss_type": "dapo",
//    "kl_bias_correction": false}
// Per token: −min(r·A, clip(r, 1−ε, 1+ε)·A) + β·k3, or β·r·k3 with kl_bias_correction (objective.ts). Aggregation by loss_type, named
// as TRL names them:
//   dapo: Σ over every completion token of the batch / number of those tokens: the trainer's own
//         (trainer.ts divides by the step's sampled tokens); bnpo is the same for one batch;
//   grpo: per-sequence mean, then mean over sequences (the original GRPO paper).
// Without ref_logprobs (and β > 0) the reference is the model with the adapter off, as in training.
// Prints the loss; writes gradients under PEFT's tensor names (f32).
import { readFileSync, writeFileSync } from 'node:fs';
import { fromFloat32 } from '../../hf-io/dtypes';
import { writeSafetensors } from '../../hf-io/safetensors-writer';
import type { QwenEngine } from '../../engine/engine';
import { LoraAdapter } from '../../training/model/lora-adapter';
import { TrainingModel } from '../../training/model/train-model';
import { surrogate, tokenTerms } from '../../training/grpo/objective';
import { LORA_TARGETS, type LoraTarget } from '../../engine/ops/lora-targets';
import { openPeftAdapter } from '../adapter-setup';
import { createCliEngine, openModelDir } from '../engine-setup';
import { CliError, stringFlag, type Flags } from '../flags';

export const usage = 'grpo-grad --model DIR --adapter DIR --batch FILE.json --out FILE.safetensors';
export const needsGpu = true;

export const GRPO_LOSS_TYPES = ['dapo', 'bnpo', 'grpo'] as const;
export type GrpoLossType = (typeof GRPO_LOSS_TYPES)[number];

export interface GrpoBatch {
  prompt_ids: number[][];
  completion_ids: number[][];
  advantages: number[];
  old_logprobs: number[][];
  ref_logprobs: number[][] | null;
  beta: number;
  epsilon: number;
  loss_type: GrpoLossType;
  /** TRL's use_bias_correction_kl (its default in TRL 1.x): the KL term is r·k3. Ours: false. */
  kl_bias_correction: boolean;
}

function idRows(v: unknown, name: string, vocab: number): number[][] {
  if (!Array.isArray(v) || v.length === 0) throw new CliError(`--batch: "${name}" must be a non-empty list of token-id lists`);
  return v.map((row, i) => {
    if (!Array.isArray(row) || row.length === 0 || row.some((x) => !Number.isInteger(x) || x < 0 || x >= vocab))
      throw new CliError(`--batch: ${name}[${i}] must be a non-empty list of token ids in [0, ${vocab})`);
    return row as number[];
  });
}

function numberRows(v: unknown, name: string, lengths: number[]): number[][] {
  if (!Array.isArray(v) || v.length !== lengths.length) throw new CliError(`--batch: "${name}" must have one row per sample (${lengths.length})`);
  return v.map((row, i) => {
    if (!Array.isArray(row) || row.length !== lengths[i] || row.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      throw new CliError(`--batch: ${name}[${i}] must hold ${lengths[i]} finite numbers (one per completion token)`);
    return row as number[];
  });
}

export function parseGrpoBatch(json: unknown, vocab: number): GrpoBatch {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CliError('--batch: must be a JSON object');
  const b = json as Record<string, unknown>;
  const prompts = idRows(b.prompt_ids, 'prompt_ids', vocab);
  const completions = idRows(b.completion_ids, 'completion_ids', vocab);
  if (completions.length !== prompts.length) throw new CliError(`--batch: ${prompts.length} prompts but ${completions.length} completions`);
  const lengths = completions.map((c) => c.length);
  const adv = b.advantages;
  if (!Array.isArray(adv) || adv.length !== prompts.length || adv.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw new CliError(`--batch: "advantages" must be ${prompts.length} finite numbers`);
  const beta = b.beta ?? 0;
  const epsilon = b.epsilon ?? 0.2;
  if (typeof beta !== 'number' || !(beta >= 0)) throw new CliError(`--batch: "beta" must be a number ≥ 0, got ${JSON.stringify(beta)}`);
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon < 1)) throw new CliError(`--batch: "epsilon" must be in (0, 1), got ${JSON.stringify(epsilon)}`);
  const lossType = b.loss_type ?? 'dapo';
  if (!GRPO_LOSS_TYPES.includes(lossType as GrpoLossType))
    throw new CliError(`--batch: "loss_type" must be one of ${GRPO_LOSS_TYPES.join(', ')}, got ${JSON.stringify(lossType)}`);
  const klCorrection = b.kl_bias_correction ?? false;
  if (typeof klCorrection !== 'boolean') throw new CliError(`--batch: "kl_bias_correction" must be true or false, got ${JSON.stringify(klCorrection)}`);
  return {
    prompt_ids: prompts,
    completion_ids: completions,
    advantages: adv as number[],
    old_logprobs: numberRows(b.old_logprobs, 'old_logprobs', lengths),
    ref_logprobs: b.ref_logprobs === null || b.ref_logprobs === undefined ? null : numberRows(b.ref_logprobs, 'ref_logprobs', lengths),
    beta,
    epsilon,
    loss_type: lossType as GrpoLossType,
    kl_bias_correction: klCorrection,
  };
}

/** The divisor of sample i's token terms under each aggregation. */
export function tokenNormaliser(lossType: GrpoLossType, completionLengths: number[], i: number): number {
  if (lossType === 'grpo') return completionLengths.length * completionLengths[i];
  return completionLengths.reduce((a, b) => a + b, 0); // dapo and bnpo: all tokens of the batch
}

/** Loss and per-token loss weights (w = −∂L/∂logp) for the batch, given the current log-probs. */
export function grpoBatchTerms(batch: GrpoBatch, logp: ArrayLike<number>[], ref: ArrayLike<number>[] | null): { loss: number; weights: Float64Array[] } {
  const lengths = batch.completion_ids.map((c) => c.length);
  let loss = 0;
  const weights = lengths.map((n, i) => {
    const norm = tokenNormaliser(batch.loss_type, lengths, i);
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const token = { logp: logp[i][j], oldLogp: batch.old_logprobs[i][j], refLogp: ref?.[i][j], advantage: batch.advantages[i] };
      loss -= surrogate([token], batch.epsilon, batch.beta, batch.kl_bias_correction) / norm;
      w[j] = tokenTerms(token.logp, token.oldLogp, token.refLogp, token.advantage, batch.epsilon, batch.beta, norm, batch.kl_bias_correction).weight;
    }
    return w;
  });
  return { loss, weights };
}

/** Our loss and LoRA gradients (PEFT names) for a batch, on an engine (f32) that holds its sequences. */
export async function grpoGradients(
  engine: QwenEngine,
  lora: { rank: number; alpha: number; targets: LoraTarget[] },
  tensors: Map<string, { shape: number[]; values: Float32Array }>,
  batch: GrpoBatch,
  loadError: (e: Error) => Error = (e) => e,
): Promise<{ loss: number; grads: Map<string, { shape: number[]; values: Float32Array }> }> {
  const sequences = batch.prompt_ids.map((p, i) => [...p, ...batch.completion_ids[i]]);
  const adapter = new LoraAdapter(engine.ctx, engine.config, lora);
  const train = new TrainingModel(engine, adapter, { sequences: sequences.length, seqLen: Math.max(...sequences.map((s) => s.length)), recompute: false });
  try {
    try {
      adapter.load(tensors);
    } catch (e) {
      throw loadError(e as Error);
    }
    train.setBatch(sequences, undefined, 0, { scoreFrom: batch.prompt_ids.map((p) => p.length) });
    let ref: ArrayLike<number>[] | null = batch.ref_logprobs;
    if (!ref && batch.beta > 0) ref = train.gatherScored(await train.forwardLogProbs({ lora: false }));
    const logp = train.gatherScored(await train.forwardLogProbs({ lora: true }));
    const { loss, weights } = grpoBatchTerms(batch, logp, ref);
    train.setScoredWeights(weights);
    const encoder = engine.ctx.device.createCommandEncoder();
    adapter.encodeZeroGrad(encoder);
    engine.ctx.device.queue.submit([encoder.finish()]);
    await train.backward();
    return { loss, grads: await adapter.read('grads') };
  } finally {
    train.destroy();
    adapter.destroy();
  }
}

export async function run(flags: Flags) {
  const out = stringFlag(flags, 'out', true);
  const adapterDir = stringFlag(flags, 'adapter', true);
  const batchPath = stringFlag(flags, 'batch', true);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(batchPath, 'utf8'));
  } catch (e) {
    throw new CliError(`--batch ${batchPath}: ${(e as Error).message}`);
  }
  const model = await openModelDir(flags);
  const batch = parseGrpoBatch(json, model.config.vocabSize);
  const { config, tensors } = await openPeftAdapter(adapterDir);
  const unknown = config.targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0)
    throw new CliError(`--adapter ${adapterDir}: target modules ${unknown.join(', ')} are not supported (supported: ${LORA_TARGETS.join(', ')})`);
  const seqLen = Math.max(...batch.prompt_ids.map((p, i) => p.length + batch.completion_ids[i].length));
  const engine = await createCliEngine(model, { format: 'f32', maxContext: seqLen });
  try {
    const result = await grpoGradients(
      engine,
      { rank: config.rank, alpha: config.alpha, targets: config.targets as LoraTarget[] },
      tensors,
      batch,
      (e) => new CliError(`--adapter ${adapterDir}: ${e.message}`),
    );
    writeFileSync(
      out,
      writeSafetensors([...result.grads].map(([name, g]) => ({ name, dtype: 'F32' as const, shape: g.shape, data: fromFloat32(g.values, 'F32') }))),
    );
    console.log(
      JSON.stringify({
        loss: result.loss,
        loss_type: batch.loss_type,
        kl_bias_correction: batch.kl_bias_correction,
        samples: batch.prompt_ids.length,
        completion_tokens: batch.completion_ids.reduce((n, c) => n + c.length, 0),
      }),
    );
  } finally {
    engine.destroy();
  }
}
