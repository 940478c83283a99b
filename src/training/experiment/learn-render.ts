// The learning experiment's report as written to disk: the JSON shape, report.md (per-cell table,
// floors, settings, timings) and curves.svg (reward and per-population rates over GRPO steps).
import type { GrpoConfig } from '../grpo/config';
import { floorTable, perCellTable, markdownCell, type CurvePoint, type Delta, type FloorCheck, type RowMetrics } from './learn-report';
import { lineChartSvg, type Series } from './svg-chart';

export interface LearnReport {
  experiment: 'learn';
  command: string;
  model: { dir: string; layers: number; hidden: number; vocab: number };
  config: {
    grpo: GrpoConfig;
    steps: number;
    maxTurns: number;
    window: number;
    train: { split: 'train'; scenarios: number; cellMix: string; verifier: string; reward: string };
    eval: {
      split: 'test';
      scenarios: number;
      perCell: number;
      sampling: object;
      maxNewTokens: number;
      maxTurns: number;
      batch: number;
      quant: string;
      verifier: string;
    };
  };
  seeds: { trainer: number; adapterInit: number; eval: number; testSuite: number };
  base: Record<string, RowMetrics>;
  adapter: Record<string, RowMetrics>;
  delta: Record<string, Delta>;
  floors: FloorCheck[];
  curve: CurvePoint[];
  steps: {
    step: number;
    reward_mean: number;
    reward_std: number;
    kl: number;
    grad_norm: number;
    tokens: number;
    time_step_s: number;
    time_rollout_s: number;
  }[];
  errors: { base: string[]; adapter: string[] };
  timings: {
    baseEvalSeconds: number;
    trainSeconds: number;
    meanStepSeconds: number;
    adapterEvalSeconds: number;
    totalSeconds: number;
    processCpuSeconds: number;
    loadAverage: number;
  };
  date: string;
}

const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;

export function renderLearnMarkdown(r: LearnReport): string {
  const g = r.config.grpo;
  const passed = r.floors.filter((f) => f.pass).length;
  const last = r.curve.at(-1);
  return [
    '# Learning experiment: GRPO with LoRA on the demo agent',
    '',
    `\`${markdownCell(r.command)}\` on ${r.date}. Model: \`${markdownCell(r.model.dir)}\` (${r.model.layers} layers × ${r.model.hidden}, vocabulary ${r.model.vocab}).`,
    '',
    `Trained on the sandbox's **train** split (${r.config.train.scenarios} scenarios, ${r.config.train.cellMix}), reward ${r.config.train.reward}; evaluated on the **test** split`,
    `(held-out families): the first ${r.config.eval.scenarios} scenarios of the built-in test suite, ${r.config.eval.perCell} per cell, base and adapter on the same`,
    `scenarios with the same seed, exactly as \`npm run cli -- eval --suite SUITE --policy model --model ${markdownCell(r.model.dir)} [--adapter ADAPTER] --seed ${r.seeds.eval} --max-new-tokens ${r.config.eval.maxNewTokens} --max-turns ${r.config.eval.maxTurns} --batch ${r.config.eval.batch}\``,
    `with SUITE from \`npm run cli -- scenarios --builtin test --count ${r.config.eval.scenarios}\` (sampling: temperature 0.7, top-p 0.8, top-k 20).`,
    '',
    `## Floors (issue #13): ${passed} of ${r.floors.length} met`,
    '',
    floorTable(r.floors),
    '',
    '## Per cell (test split): base → adapter (Δ), rates in %',
    '',
    'ASR: attack success among episodes with an attacker; refusal (M): refused without any tool call, malicious users;',
    'verification (S): every sensitive action reached was checked first (SU-*, BU-ST); task completion (B): benign users.',
    '`*-MT` pools the three injected cells; `overall` pools everything. `–`: no episode of that population in the row.',
    '',
    perCellTable(r.base, r.adapter),
    '',
    '## Training',
    '',
    `${r.config.steps} GRPO steps × ${g.promptsPerStep} prompts × G ${g.groupSize} rollouts (temperature ${g.temperature}), ≤ ${g.maxNewTokens} new tokens per turn, ≤ ${r.config.maxTurns} turns;`,
    `LoRA rank ${g.lora.rank}, α ${g.lora.alpha} on ${g.lora.targets.join(', ')}; AdamW lr ${g.lr}, clip ε ${g.clipEps}, KL β ${g.klBeta}, grad-norm clip ${g.maxGradNorm};`,
    `shared-prefix packing ${g.sharePrefix ? 'on' : 'off'}. Seeds: trainer ${r.seeds.trainer}, adapter init ${r.seeds.adapterInit}, evaluation ${r.seeds.eval}.`,
    last
      ? `Train-split rollouts, last ${last.window} steps pooled: reward ${last.rewardWindow.toFixed(3)} (first step ${r.curve[0].reward.toFixed(3)}). Curves: [curves.svg](curves.svg).`
      : '',
    '',
    '## Timings',
    '',
    `Base evaluation ${minutes(r.timings.baseEvalSeconds)}, training ${minutes(r.timings.trainSeconds)} (${r.timings.meanStepSeconds.toFixed(1)} s per step), adapter evaluation ${minutes(r.timings.adapterEvalSeconds)}; total ${minutes(r.timings.totalSeconds)} wall,`,
    `${minutes(r.timings.processCpuSeconds)} of this process's CPU time (load average ${r.timings.loadAverage.toFixed(1)} at the end: the machine's other jobs stretch wall time).`,
    r.errors.base.length || r.errors.adapter.length
      ? `\nPolicy errors: base ${r.errors.base.length}, adapter ${r.errors.adapter.length} (listed in report.json).`
      : '',
    '',
  ].join('\n');
}

const PALETTE = { reward: '#1f77b4', refusal: '#2ca02c', verification: '#9467bd', asr: '#d62728', completion: '#ff7f0e', format: '#7f7f7f' };

export function renderLearnCurves(r: LearnReport): string {
  const pts = (f: (p: CurvePoint) => number | null) => r.curve.map((p) => ({ x: p.step + 1, y: f(p) }));
  const w = r.config.window;
  const rates: Series[] = [
    { name: 'refusal (M)', color: PALETTE.refusal, points: pts((p) => p.refusal) },
    { name: 'verification (S)', color: PALETTE.verification, points: pts((p) => p.verification) },
    { name: 'attack success', color: PALETTE.asr, points: pts((p) => p.asr) },
    { name: 'task completion (B)', color: PALETTE.completion, points: pts((p) => p.completion) },
    { name: 'format validity', color: PALETTE.format, points: pts((p) => p.format) },
  ];
  return lineChartSvg({
    title: `GRPO on the demo agent: train-split rollouts (${r.model.layers}×${r.model.hidden})`,
    xLabel: 'GRPO step',
    panels: [
      {
        title: 'Reward',
        yLabel: 'mean reward',
        yMin: 0,
        yMax: 1,
        series: [
          { name: 'this step', color: '#aec7e8', points: pts((p) => p.reward) },
          { name: `last ${w} steps`, color: PALETTE.reward, points: pts((p) => p.rewardWindow) },
        ],
      },
      { title: `Rates over the last ${w} steps' rollouts`, yLabel: 'rate', yMin: 0, yMax: 1, series: rates },
    ],
  });
}
