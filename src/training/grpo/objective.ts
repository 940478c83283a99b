// The GRPO objective, as pure functions (unit-tested on hand-computed values).
//
// Per group of G rollouts of one prompt: A_i = (R_i − mean(R)) / (std(R) + eps) (population std).
// Per generated token t of rollout i, with r_t = exp(logp_t − logp_old_t):
//   J = (1/N) Σ_t [ min(r_t·A_i, clip(r_t, 1−ε, 1+ε)·A_i) − β·k3_t ],   k3_t = e^{ref_t − logp_t} − (ref_t − logp_t) − 1
// where N is the number of generated tokens in the whole step (token-level mean, as DAPO argues:
// long and short answers count per token). We minimise L = −J. This aggregation is the only one:
// `tokenTerms` applies it per token (weight and loss term), whether the step's sequences are
// trained one per row or packed over their group's shared prompt (grpo/policy-pass.ts).
// The training model takes per-token weights w_t with L = −Σ w_t·logp_t, so w_t = −∂L/∂logp_t:
//   w_t = (1/N)·[ A·r_t·𝟙{unclipped} − β·(1 − e^{ref_t − logp_t}) ]
// (the min picks the unclipped term exactly when r ≤ 1+ε for A > 0, or r ≥ 1−ε for A < 0).
// Optional KL bias correction (TRL's use_bias_correction_kl, from DeepSeek-V3.2): the KL term is
// r_t·k3_t, whose gradient is the unbiased reverse-KL one, ∂(r·k3)/∂logp = r·(logp − ref), so w_t
// gets −β·r_t·(logp_t − ref_t) instead of −β·(1 − e^{ref_t − logp_t}). The trainer uses plain k3
// (the GRPO paper's estimator); grpo-grad takes either, and docs/scale-out.md compares them.

export const ADVANTAGE_EPS = 1e-4;

/** Group-normalised advantages; `groups[i]` is rollout i's group id. All-equal groups get 0. */
export function groupAdvantages(rewards: readonly number[], groups: readonly number[]): number[] {
  const byGroup = new Map<number, number[]>();
  rewards.forEach((r, i) => {
    const list = byGroup.get(groups[i]) ?? [];
    list.push(r);
    byGroup.set(groups[i], list);
  });
  const stats = new Map<number, { mean: number; std: number }>();
  for (const [g, list] of byGroup) {
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    const std = Math.sqrt(list.reduce((a, b) => a + (b - mean) ** 2, 0) / list.length);
    stats.set(g, { mean, std });
  }
  return rewards.map((r, i) => {
    const { mean, std } = stats.get(groups[i])!;
    return std === 0 ? 0 : (r - mean) / (std + ADVANTAGE_EPS);
  });
}

export interface TokenTerms {
  weight: number;
  ratio: number;
  clipped: boolean;
  kl: number;
  /** This token's term of L = −J (already divided by N). */
  loss: number;
}

export function tokenTerms(
  logp: number,
  oldLogp: number,
  refLogp: number | undefined,
  advantage: number,
  clipEps: number,
  beta: number,
  tokensInStep: number,
  klBiasCorrection = false,
): TokenTerms {
  const ratio = Math.exp(logp - oldLogp);
  const clipped = advantage > 0 ? ratio > 1 + clipEps : advantage < 0 ? ratio < 1 - clipEps : false;
  let weight = clipped ? 0 : advantage * ratio;
  const clippedRatio = Math.min(Math.max(ratio, 1 - clipEps), 1 + clipEps);
  let objective = Math.min(ratio * advantage, clippedRatio * advantage);
  let kl = 0;
  if (refLogp !== undefined && beta > 0) {
    const diff = refLogp - logp;
    kl = Math.exp(diff) - diff - 1;
    weight -= klBiasCorrection ? beta * ratio * -diff : beta * (1 - Math.exp(diff));
    objective -= beta * (klBiasCorrection ? ratio : 1) * kl;
  }
  return { weight: weight / tokensInStep, ratio, clipped, kl, loss: -objective / tokensInStep };
}

/** The surrogate J for a set of tokens (for tests and logging). */
export function surrogate(
  tokens: { logp: number; oldLogp: number; refLogp?: number; advantage: number }[],
  clipEps: number,
  beta: number,
  klBiasCorrection = false,
): number {
  let sum = 0;
  for (const t of tokens) {
    const ratio = Math.exp(t.logp - t.oldLogp);
    const clippedRatio = Math.min(Math.max(ratio, 1 - clipEps), 1 + clipEps);
    sum += Math.min(ratio * t.advantage, clippedRatio * t.advantage);
    if (t.refLogp !== undefined) sum -= beta * (klBiasCorrection ? ratio : 1) * (Math.exp(t.refLogp - t.logp) - (t.refLogp - t.logp) - 1);
  }
  return sum / tokens.length;
}
