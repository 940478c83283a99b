// npm run experiment -- learn [--steps N] [--out DIR] [--model DIR] [...]   (issue #13 item 2)
// The learning experiment: GRPO with LoRA on the demo agent over the sandbox's TRAIN split (the
// same GrpoTrainer, SandboxEnvironment and PEFT writer as `train`), then the base model and the
// adapter evaluated on the TEST split (held-out families) exactly as `eval --policy model [--adapter]`
// does (createModelPolicyFromDir + runEval, same scenarios, same seed), and a report:
// report.json (config, seeds, per-cell metrics base/adapter/delta, floors, curve, timings),
// report.md (the per-cell table and the floors) and curves.svg. The adapter is saved in OUT/adapter.
// Progress goes to stderr.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { generateScenarios, runEval, scenarioVerifier, type EpisodeSummary, type Scenario } from '../../sandbox/index';
import { resolveGrpoConfig, type GrpoConfig } from '../../training/grpo/config';
import { SandboxEnvironment } from '../../training/grpo/sandbox-env';
import { GrpoTrainer } from '../../training/grpo/trainer';
import { LoraAdapter } from '../../training/model/lora-adapter';
import { LORA_TARGETS } from '../../engine/ops/lora-targets';
import { DEFAULT_SAMPLING } from '../../agent/model-policy';
import { checkFloors, floorPopulations, metricRows, deltaRows, trainingCurve, type CurvePoint } from '../../training/experiment/learn-report';
import { renderLearnMarkdown, renderLearnCurves, type LearnReport } from '../../training/experiment/learn-render';
import { createModelPolicyFromDir } from '../model-policy-node';
import { cliTokenizer, createCliEngine, openModelDir, quantFlag } from '../engine-setup';
import { saveAdapter } from './train';
import { CHECKPOINT_SIDECAR, sidecarText } from '../../worker-api/checkpoint-sidecar';
import { CliError, numberFlag, oneOf, stringFlag, type Flags } from '../flags';

export const usage =
  'experiment --run learn [--model DIR] [--steps N] [--out DIR] [--lr X] [--group-size G] [--prompts-per-step P] [--rank R] [--alpha A] [--kl-beta B] [--max-new-tokens N] [--max-turns N] [--test-per-cell K] [--eval-batch B] [--seed S] [--window W]   (npm run experiment -- learn ...)';
export const needsGpu = true;

/**
 * Defaults, sized from what was measured on an idle 2-core machine with SwiftShader (2026-12-03,
 * after the barrier-free kernels): the base eval of 54 test episodes at 2 turns took 4m19s, and a
 * GRPO step of 4 prompts × G 4 at 2 turns ~290 s (packed rows of ~2–3k tokens; attention is
 * quadratic in the row, so 3 turns or G 8 cost far more: 2 × G 8 at 3 turns took 206–484 s per
 * step). 12 steps + both evals ≈ 70 min. The committed report (models/demo-agent/learn-report/)
 * is these defaults with --test-per-cell 10: 1h04m idle (evals 7m29s and 5m27s, steps 197–402 s).
 */
const DEFAULTS = {
  model: 'models/demo-agent',
  out: 'models/demo-agent/learn-report',
  steps: 12,
  lr: 5e-3,
  groupSize: 4,
  promptsPerStep: 4,
  rank: 8,
  alpha: 16,
  klBeta: 0,
  maxNewTokens: 64,
  maxTurns: 2,
  testPerCell: 6,
  evalBatch: 27,
  seed: 0,
  window: 5,
  maxContext: 2048,
};

function intFlag(flags: Flags, name: string, fallback: number, min = 1): number {
  const n = numberFlag(flags, name, fallback)!;
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got ${n}`);
  return n;
}

const clock = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface EvalSettings {
  modelDir: string;
  quant: ReturnType<typeof quantFlag>;
  seed: number;
  maxNewTokens: number;
  maxTurns: number;
  batch: number;
  maxContext: number;
}

/** The test-split evaluation, as `eval --policy model [--adapter DIR]` runs it. */
async function evaluate(label: string, scenarios: Scenario[], s: EvalSettings, adapterDir?: string) {
  const started = performance.now();
  const policy = await createModelPolicyFromDir({
    modelDir: s.modelDir,
    adapterDir,
    quant: s.quant,
    seed: s.seed,
    maxNewTokens: s.maxNewTokens,
    maxContext: s.maxContext,
    maxBatch: s.batch,
    sampling: DEFAULT_SAMPLING,
  });
  let done = 0;
  // Episodes run in lockstep (their turns batched), so they tend to end together: a heartbeat shows
  // the batched turns going by meanwhile.
  const heartbeat = setInterval(
    () =>
      log(
        `${label}: ${done}/${scenarios.length} episodes done, ${policy.stats.generateCalls} batched generate calls (${policy.stats.turns} turns), ${clock((performance.now() - started) / 1000)}`,
      ),
    60_000,
  );
  try {
    const result = await runEval(scenarios, policy, {
      maxTurns: s.maxTurns,
      verifier: scenarioVerifier(),
      seed: s.seed,
      concurrency: policy.maxBatch,
      onEpisode: () => {
        done++;
        if (done % 9 === 0 || done === scenarios.length) {
          const elapsed = (performance.now() - started) / 1000;
          log(`${label}: ${done}/${scenarios.length} episodes, ${clock(elapsed)}, ETA ${clock((elapsed / done) * (scenarios.length - done))}`);
        }
      },
    });
    if (result.errors.length) log(`${label}: ${result.errors.length} episode(s) ended with a policy error; first: ${result.errors[0]}`);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(heartbeat);
    policy.destroy();
  }
}

async function learn(flags: Flags) {
  const modelDir = stringFlag(flags, 'model') ?? DEFAULTS.model;
  const out = stringFlag(flags, 'out') ?? DEFAULTS.out;
  const steps = intFlag(flags, 'steps', DEFAULTS.steps);
  const seed = intFlag(flags, 'seed', DEFAULTS.seed, 0);
  const testPerCell = intFlag(flags, 'test-per-cell', DEFAULTS.testPerCell);
  const window = intFlag(flags, 'window', DEFAULTS.window);
  const maxTurns = intFlag(flags, 'max-turns', DEFAULTS.maxTurns);
  const quant = quantFlag(flags);
  let config: GrpoConfig;
  try {
    config = resolveGrpoConfig({
      lr: numberFlag(flags, 'lr', DEFAULTS.lr),
      groupSize: intFlag(flags, 'group-size', DEFAULTS.groupSize, 2),
      promptsPerStep: intFlag(flags, 'prompts-per-step', DEFAULTS.promptsPerStep),
      maxNewTokens: intFlag(flags, 'max-new-tokens', DEFAULTS.maxNewTokens),
      temperature: 1,
      topP: 1,
      klBeta: numberFlag(flags, 'kl-beta', DEFAULTS.klBeta),
      seed,
      maxSequenceTokens: DEFAULTS.maxContext,
      microBatch: 1,
      sharePrefix: true,
      lora: { rank: intFlag(flags, 'rank', DEFAULTS.rank), alpha: numberFlag(flags, 'alpha', DEFAULTS.alpha)!, targets: [...LORA_TARGETS] },
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const evalSettings: EvalSettings = {
    modelDir,
    quant,
    seed,
    maxNewTokens: config.maxNewTokens,
    maxTurns,
    batch: intFlag(flags, 'eval-batch', DEFAULTS.evalBatch),
    maxContext: DEFAULTS.maxContext,
  };
  mkdirSync(out, { recursive: true });
  const adapterDir = join(out, 'adapter');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const model = await openModelDir(new Map([['model', modelDir]]));
  const tokenizer = await cliTokenizer(model, modelDir);
  const trainScenarios = generateScenarios({ split: 'train' });
  // Round-robin over the nine cells: testPerCell episodes of each, the first of the built-in test suite.
  const testScenarios = generateScenarios({ split: 'test', count: 9 * testPerCell });
  log(
    `experiment learn: ${modelDir} (${model.config.numLayers} layers × ${model.config.hiddenSize}), ${steps} GRPO steps of ${config.promptsPerStep} prompts × G ${config.groupSize} on ${trainScenarios.length} train scenarios, eval on ${testScenarios.length} test scenarios (${testPerCell} per cell); out ${out}`,
  );

  const base = await evaluate('base eval', testScenarios, evalSettings);

  // Training: the CLI `train` command's pieces, unchanged.
  const tTrain = performance.now();
  const engine = await createCliEngine(model, { format: quant, maxContext: config.maxSequenceTokens, maxBatch: config.groupSize * config.promptsPerStep });
  const adapter = new LoraAdapter(engine.ctx, engine.config, config.lora);
  adapter.initialise(seed + 1);
  const env = new SandboxEnvironment({
    scenarios: trainScenarios,
    tokenizer,
    maxNewTokens: config.maxNewTokens,
    maxTurns,
    verifier: 'scenario',
    maxPromptTokens: config.maxSequenceTokens - 1,
    modelEosIds: engine.config.eosTokenIds,
  });
  const trainer = new GrpoTrainer(engine, adapter, env, config);
  const stepSummaries: { step: number; summaries: EpisodeSummary[] }[] = [];
  const stepTimes: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const cpuStep = process.cpuUsage();
      const m = await trainer.step();
      const cpu = process.cpuUsage(cpuStep);
      stepTimes.push(m.time_step_s);
      stepSummaries.push({ step: m.step, summaries: trainer.lastRollouts.map((r) => r.rollout.info!.summary as EpisodeSummary) });
      const point = trainingCurve(stepSummaries, window).at(-1)!;
      const meanStep = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
      const rate = (x: number | null) => (x === null ? '–' : x.toFixed(2));
      log(
        `step ${s + 1}/${steps}: reward ${m.reward_mean.toFixed(3)} ± ${m.reward_std.toFixed(3)} (last ${point.window}: ${point.rewardWindow.toFixed(3)}, refusal ${rate(point.refusal)}, verification ${rate(point.verification)}, ASR ${rate(point.asr)}, completion ${rate(point.completion)}, format ${rate(point.format)}), grad norm ${m.grad_norm.toFixed(3)}, ${m.time_step_s.toFixed(1)} s (rollout ${m.time_rollout_s.toFixed(1)}; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s), ETA training ${clock(meanStep * (steps - s - 1))}`,
      );
    }
    await saveAdapter(adapterDir, trainer, config, modelDir);
    // Name and step for the app's Checkpoints tab (a built-in adapter reads them from this sidecar).
    writeFileSync(join(adapterDir, CHECKPOINT_SIDECAR), sidecarText({ name: `GRPO aligned (learn experiment, ${steps} steps)`, step: trainer.stepCount }));
  } finally {
    trainer.destroy();
    adapter.destroy();
    engine.destroy();
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;
  log(`training: ${steps} steps in ${clock(trainSeconds)}; adapter in ${adapterDir}`);

  const tuned = await evaluate('adapter eval', testScenarios, evalSettings, adapterDir);
  const baseRows = metricRows(base.summaries);
  const adapterRows = metricRows(tuned.summaries);
  const curve: CurvePoint[] = trainingCurve(stepSummaries, window);
  const report: LearnReport = {
    experiment: 'learn',
    command: `npm run experiment -- learn ${[...flags]
      .filter(([k]) => k !== 'run')
      .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`))
      .join(' ')}`.trim(),
    model: { dir: modelDir, layers: model.config.numLayers, hidden: model.config.hiddenSize, vocab: model.config.vocabSize },
    config: {
      grpo: config,
      steps,
      maxTurns,
      window,
      train: {
        split: 'train',
        scenarios: trainScenarios.length,
        cellMix: 'uniform over the nine cells',
        verifier: 'scenario',
        reward: 'sandbox R_format × R_label (graded, src/sandbox/reward.ts)',
      },
      eval: {
        split: 'test',
        scenarios: testScenarios.length,
        perCell: testPerCell,
        sampling: DEFAULT_SAMPLING,
        maxNewTokens: evalSettings.maxNewTokens,
        maxTurns,
        batch: evalSettings.batch,
        quant,
        verifier: 'scenario',
      },
    },
    seeds: { trainer: seed, adapterInit: seed + 1, eval: seed, testSuite: 0 },
    base: baseRows,
    adapter: adapterRows,
    delta: deltaRows(baseRows, adapterRows),
    floors: checkFloors(baseRows, adapterRows, floorPopulations(base.summaries)),
    curve,
    steps: trainer.history.map((h) => ({
      step: h.step,
      reward_mean: h.reward_mean,
      reward_std: h.reward_std,
      kl: h.kl,
      grad_norm: h.grad_norm,
      tokens: h.tokens,
      time_step_s: h.time_step_s,
      time_rollout_s: h.time_rollout_s,
    })),
    errors: { base: base.errors, adapter: tuned.errors },
    timings: {
      baseEvalSeconds: base.seconds,
      trainSeconds,
      meanStepSeconds: trainSeconds / steps,
      adapterEvalSeconds: tuned.seconds,
      totalSeconds: (performance.now() - t0) / 1000,
      // This process's CPU time (user + system, all threads: SwiftShader runs on several): wall time
      // depends on what else the machine runs, CPU time much less so.
      processCpuSeconds: (() => {
        const c = process.cpuUsage(cpu0);
        return (c.user + c.system) / 1e6;
      })(),
      loadAverage: loadavg()[0],
    },
    date: new Date().toISOString(),
  };
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 1));
  writeFileSync(join(out, 'report.md'), renderLearnMarkdown(report));
  writeFileSync(join(out, 'curves.svg'), renderLearnCurves(report));
  for (const f of report.floors)
    log(`floor ${f.pass ? 'PASS' : 'FAIL'}: ${f.name}: base ${(100 * f.base).toFixed(1)}%, adapter ${(100 * f.adapter).toFixed(1)}% (${f.rule}, n ${f.n})`);
  log(`experiment learn: done in ${clock(report.timings.totalSeconds)}; wrote ${join(out, 'report.json')}, report.md, curves.svg`);
}

const KNOWN_FLAGS = new Set([
  'run',
  'model',
  'out',
  'steps',
  'lr',
  'group-size',
  'prompts-per-step',
  'rank',
  'alpha',
  'kl-beta',
  'max-new-tokens',
  'max-turns',
  'test-per-cell',
  'eval-batch',
  'seed',
  'window',
  'quant',
]);

export async function run(flags: Flags) {
  const what = oneOf(flags, 'run', ['learn'] as const);
  if (!what) throw new CliError(`which experiment? ${usage}`);
  // A mistyped flag would otherwise be ignored and a 30-minute run spent on the defaults.
  const unknown = [...flags.keys()].find((k) => !KNOWN_FLAGS.has(k));
  if (unknown) throw new CliError(`experiment learn: unknown flag --${unknown.replace(/\[\d+\]$/, '')}; ${usage}`);
  await learn(flags);
}
