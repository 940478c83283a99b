// Proof that GRPO learns from the SANDBOX's reward (issue #6 §5, second proof): on malicious-user
// scenarios (cells MU-*), training raises the probability that the policy refuses; with the reward
// negated, the same run lowers it.
//
// Why a hand-built policy: a random-weight model never writes a refusal, so GRPO would have nothing
// to reinforce. tests/helpers/bigram-policy-model.ts builds a 1-layer, hidden-32 Qwen2 checkpoint
// with the real 151936-token vocabulary (so the real tokenizer and Qwen2.5 chat template render the
// real scenario prompts, 600–1430 tokens with tool schemas) whose next token depends only on the
// current one: after the generation prompt's last token ("\n" of "<|im_start|>assistant\n") it
// writes "I cannot help." (logit 23) or "Sure." (logit 24), i.e. it refuses with probability
// e⁻¹/(1 + e⁻¹) ≈ 0.269; every later token leads to the next with logit 24, ending with <|im_end|>.
// Only LoRA (rank 4 on o_proj, down_proj, gate_proj, up_proj; B starts at 0) is trained.
//
// Everything else is the real thing: GrpoTrainer with SandboxEnvironment (episodes played through
// the sandbox's agent loop, reward from its scripted judge: R_format × R_label), train-split
// scenarios for the rollouts, held-out test-split scenarios for the measurement. The first test
// checks on the CPU, through the environment itself, that on MU-* scenarios the refusal earns 1.0
// (refusal 0.6 + no tool calls 0.4) and "Sure." earns 0.4, both format-valid, so the reward really
// prefers refusing.
//
// Measurement: not by sampling. With the TrainingModel forward (LoRA on) the exact sequence
// log-probabilities of both answers after each held-out prompt give
// P(refuse) = p(refusal) / (p(refusal) + p(compliance)), averaged over 4 prompts; their total mass
// is reported too (it stays ≈ 1: the model writes nothing else).
//
// The helper's steering column: RMSNorm hides any push of the residual along a token's own
// embedding, so the two answers' lm_head rows get ±STEER in a spare column, orthogonal to every
// embedding (base logits unchanged). With STEER = 1 and lr 2e-2 the run also learned (0.27 → 0.998)
// but AdamW's sign-like steps moved every residual direction by as much as the useful one and
// leaked a third of the probability mass to other tokens; STEER = 4 with lr 5e-3 asks for the same
// logit change from a 4× smaller residual change, and the mass stays at 1.0000.
//
// Settings: G = 4 rollouts of 1 prompt per step, temperature 1, KL β = 0, lr 5e-3, LoRA rank 4
// (α 8), seeds 17 (trainer) and 5 (adapter), N = 3 steps. N = 3 because each step costs one
// rollout batch of ~1000-token prompts and a forward/backward of four such sequences on
// SwiftShader, and because a step whose 4 rollouts all agree (≈29% at the start) carries no
// signal: 3 steps leave room for one such step.
// Observed (2 shared cores, load 7–10): P(refuse) 0.269 → 0.947 (per prompt 0.937–0.957), and with
// the reward negated 0.269 → 0.016 (the two runs sample the same first two groups; only the sign
// of the advantages differs); total mass of the two answers 1.0000 before and after; the file took
// 851 s there (three ~75–150 s steps per run). With shared-prefix training (the trainer's
// default, used here) the figures are the same (per prompt 0.936–0.956; 0.013–0.018 negated); the
// file took 2199 s at load 22–29 (steps 118–379 s). Bounds asserted: ≥ 0.6 after learning, ≤ 0.15 with the
// sign flipped. A zero or wrong-signed gradient cannot pass both.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import { loadModel } from '../../../src/hf-io/load-model';
import { MemoryModelSource } from '../../../src/hf-io/sources';
import type { QwenTokenizer } from '../../../src/hf-io/tokenizer';
import { generateScenarios, type EpisodeSummary, type Scenario } from '../../../src/sandbox/index';
import { resolveGrpoConfig } from '../../../src/training/grpo/config';
import { SandboxEnvironment } from '../../../src/training/grpo/sandbox-env';
import { GrpoTrainer, sampledRuns, type RolloutEnvironment } from '../../../src/training/grpo/trainer';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import type { TrainingModel } from '../../../src/training/model/train-model';
import { loadBundledTokenizer } from '../../../models/tokenizers/bundled';
import { bigramProbability, makeBigramPolicyModel, type BigramTransition } from '../../helpers/bigram-policy-model';
import { getTestDevice } from '../../helpers/gpu';

const REFUSAL = 'I cannot help.';
const COMPLIANCE = 'Sure.';
const IM_END = 151645;
const CONTEXT = 1536;
const G = 4;
const STEPS = 3;
const HELD_OUT = 4;
const RAISED = 0.6;
const LOWERED = 0.15;
/** lm_head weight of the two first answer tokens along the helper's steering column (see there). */
const STEER = 4;

let tokenizer: QwenTokenizer;
let refusalIds: number[];
let complianceIds: number[];
let transitions: BigramTransition[];
let choiceToken: number;
let engine: QwenEngine;
const malicious = (split: 'train' | 'test') => generateScenarios({ split }).filter((s) => s.cell.startsWith('M'));

/** Plays `scenario` through the environment with a scripted "policy" that always writes `answer`. */
async function scripted(scenario: Scenario, answer: number[]) {
  let promptIds: number[] = [];
  const env = new SandboxEnvironment({ scenarios: [scenario], tokenizer, maxNewTokens: 6, maxPromptTokens: CONTEXT - 1, verifier: 'scenario' });
  const [rollout] = await env.collect({
    step: 0,
    prompts: 1,
    groupSize: 1,
    seed: 1,
    generate: async (requests) =>
      requests.map((r) => {
        promptIds = r.promptIds;
        return { ids: answer, logprobs: [], samplingLogprobs: [], finishReason: 'eos' as const };
      }),
  });
  return { promptIds, rollout };
}

beforeAll(async () => {
  tokenizer = await loadBundledTokenizer('qwen2.5');
  refusalIds = [...tokenizer.encode(REFUSAL), IM_END];
  complianceIds = [...tokenizer.encode(COMPLIANCE), IM_END];
  const { promptIds } = await scripted(malicious('test')[0], refusalIds);
  choiceToken = promptIds[promptIds.length - 1];
  const chain = (ids: number[]) => ids.slice(0, -1).map((from, i) => ({ from, to: ids[i + 1], logit: 24 }));
  transitions = [
    { from: choiceToken, to: refusalIds[0], logit: 23 },
    { from: choiceToken, to: complianceIds[0], logit: 24 },
    ...chain(refusalIds),
    ...chain(complianceIds),
  ];
  const built = await makeBigramPolicyModel({
    transitions,
    steer: [
      { token: refusalIds[0], weight: STEER },
      { token: complianceIds[0], weight: -STEER },
    ],
    hidden: 32,
    layers: 1,
    seed: 3,
  });
  const model = await loadModel(new MemoryModelSource(built.files, 'bigram policy'));
  engine = await QwenEngine.create(new GpuContext((await getTestDevice()).device), model.config, model.checkpoint, {
    format: 'f32',
    maxContext: CONTEXT,
    maxBatch: G,
  });
}, 300_000);

afterAll(() => engine?.destroy());

/**
 * Exact probabilities under the current policy (LoRA on) of the two answers after each prompt:
 * p(refusal) / (p(refusal) + p(compliance)), averaged over prompts, and their total mass. Each
 * prompt's two answers are packed over it in one row (batch-layout.ts; the prefix ends one token
 * before the first answer token, whose prediction row must differ per answer), so this works with
 * the trainer's plan either way: packed (one row of 4096) or unpacked (G rows).
 */
async function refusalProbability(model: TrainingModel, prompts: number[][]) {
  const shares: number[] = [];
  const masses: number[] = [];
  const per = model.plan.sequences;
  for (let i = 0; i < prompts.length; i += per) {
    const group = prompts.slice(i, i + per);
    model.setPackedBatch(
      group.map((p) => ({
        prefix: p.length - 1,
        sequences: [
          [...p, ...refusalIds],
          [...p, ...complianceIds],
        ].map((ids) => ({ ids, scoreFrom: p.length })),
      })),
    );
    const scored = model.gatherScored(await model.forwardLogProbs({ lora: true }));
    const seqLogp = scored.map((lp) => lp.reduce((a, b) => a + b, 0));
    for (let k = 0; k < group.length; k++) {
      const [r, c] = [Math.exp(seqLogp[2 * k]), Math.exp(seqLogp[2 * k + 1])];
      shares.push(r / (r + c));
      masses.push(r + c);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { refusal: mean(shares), perPrompt: shares, mass: mean(masses) };
}

/** N GRPO steps on MU-* train scenarios; `sign` −1 negates the sandbox's reward. */
async function run(sign: 1 | -1) {
  const config = resolveGrpoConfig({
    lr: 5e-3,
    groupSize: G,
    promptsPerStep: 1,
    maxNewTokens: 6,
    temperature: 1,
    topP: 1,
    klBeta: 0,
    epochs: 1,
    seed: 17,
    lora: { rank: 4, alpha: 8, targets: ['o_proj', 'down_proj', 'gate_proj', 'up_proj'] },
    microBatch: G,
    maxSequenceTokens: CONTEXT,
    recompute: false,
    maxGradNorm: 1,
  });
  const adapter = new LoraAdapter(engine.ctx, engine.config, config.lora);
  adapter.initialise(5);
  const sandbox = new SandboxEnvironment({
    scenarios: malicious('train'),
    tokenizer,
    maxNewTokens: 6,
    maxTurns: 2,
    verifier: 'scenario',
    maxPromptTokens: CONTEXT - 1,
  });
  const env: RolloutEnvironment =
    sign === 1
      ? sandbox
      : {
          collect: async (args) => (await sandbox.collect(args)).map((r) => ({ ...r, reward: -r.reward })),
          metrics: (rollouts) => sandbox.metrics(rollouts),
        };
  const trainer = new GrpoTrainer(engine, adapter, env, config);
  const heldOut = await Promise.all(
    malicious('test')
      .slice(0, HELD_OUT)
      .map(async (s) => (await scripted(s, refusalIds)).promptIds),
  );
  const started = performance.now();
  const label = sign === 1 ? 'learning' : 'sign flipped';
  try {
    const before = await refusalProbability(trainer.model, heldOut);
    const steps: { reward: number; refusalRate: number; cells: string[] }[] = [];
    for (let s = 0; s < STEPS; s++) {
      const m = await trainer.step();
      expect(Number.isFinite(m.grad_norm)).toBe(true);
      steps.push({ reward: m.reward_mean, refusalRate: m.refusal_rate_malicious, cells: Object.keys(m).filter((k) => k.endsWith('.refusal_rate')) });
      const answers = trainer.lastRollouts.map((r) =>
        JSON.stringify(tokenizer.decode(r.rollout.sequences[0] ? (sampledRuns(r.rollout.sequences[0])[0] ?? []) : [], { skipSpecialTokens: true })),
      );
      console.log(
        `${label} step ${s}: reward ${m.reward_mean.toFixed(2)}, refusal_rate_malicious ${m.refusal_rate_malicious}, grad norm ${m.grad_norm.toFixed(3)}, ${m.time_step_s.toFixed(0)} s; answers ${answers.join(' ')}`,
      );
    }
    const after = await refusalProbability(trainer.model, heldOut);
    const fmt = (p: typeof before) => `${p.refusal.toFixed(3)} (per prompt ${p.perPrompt.map((x) => x.toFixed(3)).join(' ')}, mass ${p.mass.toFixed(4)})`;
    console.log(
      `${label}: P(refuse) on ${HELD_OUT} held-out MU-* prompts ${fmt(before)} → ${fmt(after)} after ${STEPS} steps, ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    return { before, after, steps };
  } finally {
    trainer.destroy();
    adapter.destroy();
  }
}

describe('GRPO on sandbox scenarios raises refusal of malicious prompts', () => {
  it('the sandbox reward prefers the refusal on malicious-user scenarios (CPU, through the environment)', async () => {
    expect(tokenizer.decode(refusalIds, { skipSpecialTokens: true })).toBe(REFUSAL);
    expect(tokenizer.decode([choiceToken])).toBe('\n');
    const sample = [...malicious('train').slice(0, 30), ...malicious('test').slice(0, 12)];
    for (const s of sample) {
      const refuse = (await scripted(s, refusalIds)).rollout;
      const comply = (await scripted(s, complianceIds)).rollout;
      for (const r of [refuse, comply]) expect(r.info?.endReason).toBe('final_answer');
      const [ro, co] = [refuse, comply].map((r) => (r.info!.summary as EpisodeSummary).outcome);
      expect([ro.refused, co.refused]).toEqual([true, false]);
      expect([ro.formatValid, co.formatValid]).toEqual([true, true]);
      expect([ro.toolCallCount, co.toolCallCount]).toEqual([0, 0]);
      expect(refuse.reward).toBe(1);
      expect(comply.reward).toBeCloseTo(0.4, 6);
    }
  });

  it(`raises P(refuse) on held-out malicious prompts from ≈0.27 to ≥ ${RAISED} in ${STEPS} GRPO steps`, async () => {
    const { before, after, steps } = await run(1);
    // The base policy is exactly the table: no other token has noticeable mass.
    expect(before.refusal).toBeCloseTo(
      bigramProbability(transitions, choiceToken, refusalIds[0]) /
        (bigramProbability(transitions, choiceToken, refusalIds[0]) + bigramProbability(transitions, choiceToken, complianceIds[0])),
      3,
    );
    expect(before.mass).toBeGreaterThan(0.99);
    for (const s of steps) {
      expect(s.refusalRate).toBeGreaterThanOrEqual(0);
      expect(s.refusalRate).toBeLessThanOrEqual(1);
      expect(s.cells.length).toBeGreaterThan(0);
      for (const c of s.cells) expect(c.startsWith('MU-')).toBe(true);
    }
    expect(after.refusal).toBeGreaterThanOrEqual(RAISED);
    expect(after.mass).toBeGreaterThan(0.9);
  }, 1_800_000);

  it(`with the reward negated, the same run lowers P(refuse) to ≤ ${LOWERED} instead`, async () => {
    const { before, after } = await run(-1);
    expect(before.refusal).toBeCloseTo(0.269, 2);
    expect(after.refusal).toBeLessThanOrEqual(LOWERED);
    expect(after.mass).toBeGreaterThan(0.9);
  }, 1_800_000);
});
