// The training half of a GRPO step, apart from rollouts: the step's sequences laid out in
// micro-batches (one sequence per row, or the G sequences of a group packed over their shared
// prompt), then per micro-batch the reference and old log-probs, the per-token weights of the
// objective and the backward. Packing changes where tokens sit, never what is computed: each
// sequence's log-probs, the loss and every gradient equal the unpacked computation (tested in
// tests/gpu/training/shared-prefix.test.ts).
import type { PackedRow } from '../model/batch-layout';
import type { TrainingModel } from '../model/train-model';
import { tokenTerms } from './objective';

/** One trained sequence of a rollout. */
export interface PolicySample {
  ids: readonly number[];
  /** Positions t (≥ 1) of sampled tokens, ascending: the trained tokens. */
  positions: readonly number[];
  advantage: number;
  /** Rollout group (the G rollouts of one prompt): sequences of a group may share a row. */
  group: number;
  /** Log-probs at `positions` under the policy before this step's first update (set by epoch 0). */
  oldLogp?: Float32Array;
  /** Log-probs at `positions` under the base model (set by epoch 0 when the KL is on). */
  refLogp?: Float32Array;
}

export interface MicroBatch {
  rows: PackedRow[];
  /** The samples in row order (the model numbers sequences the same way). */
  samples: PolicySample[];
}

/**
 * Length of the prefix a group's sequences can share: their longest common prefix, ended one token
 * before the earliest sampled token (that token's row must predict a different token per sequence).
 */
export function sharedPrefixLength(samples: readonly PolicySample[]): number {
  if (samples.length === 0) return 0;
  let n = Math.min(...samples.map((s) => Math.min(s.ids.length, s.positions[0] ?? s.ids.length) - 1));
  const first = samples[0].ids;
  for (const s of samples) {
    let k = 0;
    while (k < n && s.ids[k] === first[k]) k++;
    n = k;
  }
  return Math.max(0, n);
}

/**
 * Lays the samples out. Unshared: `microBatch` rows of one sequence each. Shared: each group's
 * sequences packed over their shared prefix into rows of at most `rowTokens` tokens (a group that
 * does not fit in one row continues in another, with the prefix again), one row per micro-batch.
 */
export function planMicroBatches(samples: readonly PolicySample[], options: { share: boolean; microBatch: number; rowTokens: number }): MicroBatch[] {
  const batches: MicroBatch[] = [];
  if (!options.share) {
    for (let i = 0; i < samples.length; i += options.microBatch) {
      const part = samples.slice(i, i + options.microBatch);
      batches.push({ rows: part.map((s) => ({ prefix: 0, sequences: [{ ids: s.ids, scoreFrom: s.positions[0] }] })), samples: part });
    }
    return batches;
  }
  const groups = new Map<number, PolicySample[]>();
  for (const s of samples) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  for (const group of groups.values()) {
    const prefix = sharedPrefixLength(group);
    let current: PolicySample[] = [];
    let used = prefix;
    const flush = () => {
      if (current.length === 0) return;
      // A row of one sequence needs no sharing (and then no segment table).
      const p = current.length > 1 ? prefix : 0;
      batches.push({ rows: [{ prefix: p, sequences: current.map((s) => ({ ids: s.ids, scoreFrom: s.positions[0] })) }], samples: current });
      current = [];
      used = prefix;
    };
    for (const s of group) {
      if (s.ids.length > options.rowTokens) throw new Error(`a sequence of ${s.ids.length} tokens does not fit a training row of ${options.rowTokens}`);
      if (current.length > 0 && used + s.ids.length - prefix > options.rowTokens) flush();
      current.push(s);
      used += s.ids.length - prefix;
    }
    flush();
  }
  return batches;
}

export interface PassSettings {
  clipEps: number;
  klBeta: number;
  /** N: sampled tokens trained in the whole step (THE normalisation, see objective.ts). */
  tokensInStep: number;
  /** Epoch 0 records old (and reference) log-probs; later epochs reuse them. */
  epoch: number;
}

export interface PassTotals {
  loss: number;
  klSum: number;
  clipped: number;
  /** Token rows computed (the prefix once per row) vs. those of every sequence on its own. */
  tokensProcessed: number;
  unpackedTokens: number;
  /** Seconds in the reference forward (no LoRA), the policy forward (old log-probs in epoch 0) and the backward. */
  timeReference: number;
  timeForward: number;
  timeBackward: number;
}

/**
 * One epoch's forward and backward over every micro-batch: accumulates the LoRA gradients of
 * L = −J into the adapter (zero them first). Returns the loss and its statistics.
 */
export async function policyGradientPass(
  model: TrainingModel,
  batches: readonly MicroBatch[],
  settings: PassSettings,
  onBatch?: (k: number) => void,
): Promise<PassTotals> {
  const totals: PassTotals = { loss: 0, klSum: 0, clipped: 0, tokensProcessed: 0, unpackedTokens: 0, timeReference: 0, timeForward: 0, timeBackward: 0 };
  const seconds = (since: number) => (performance.now() - since) / 1000;
  // Scored tokens run from the first sampled position to the end; keep the sampled ones.
  const pick = (s: PolicySample, scored: Float32Array) => Float32Array.from(s.positions, (t) => scored[t - s.positions[0]]);
  for (const [k, batch] of batches.entries()) {
    onBatch?.(k);
    model.setPackedBatch(batch.rows);
    totals.tokensProcessed += model.layout.tokens;
    totals.unpackedTokens += model.layout.unpackedTokens;
    let t0 = performance.now();
    if (settings.epoch === 0 && settings.klBeta > 0) {
      const ref = model.gatherScored(await model.forwardLogProbs({ lora: false }));
      batch.samples.forEach((s, i) => {
        s.refLogp = pick(s, ref[i]);
      });
      totals.timeReference += seconds(t0);
    }
    t0 = performance.now();
    const scored = model.gatherScored(await model.forwardLogProbs({ lora: true }));
    totals.timeForward += seconds(t0);
    const weights = batch.samples.map((s, i) => {
      const current = pick(s, scored[i]);
      if (settings.epoch === 0) s.oldLogp = current;
      const w = new Float32Array(scored[i].length);
      current.forEach((lp, j) => {
        const t = tokenTerms(lp, s.oldLogp![j], s.refLogp?.[j], s.advantage, settings.clipEps, settings.klBeta, settings.tokensInStep);
        w[s.positions[j] - s.positions[0]] = t.weight;
        totals.loss += t.loss;
        totals.klSum += t.kl;
        if (t.clipped) totals.clipped++;
      });
      return w;
    });
    model.setScoredWeights(weights);
    t0 = performance.now();
    await model.backward();
    totals.timeBackward += seconds(t0);
  }
  return totals;
}
