// A GRPO training run inside the engine worker: sandbox scenarios, the loaded engine and
// tokenizer, LoRA + AdamW on the GPU, checkpoints in IndexedDB every N steps (and at the end).
// Pause holds between steps; stop ends after the current step and still saves the checkpoint.
import { generateScenarios, type Cell, type Scenario } from '../sandbox/index';
import type { QwenEngine } from '../engine/engine';
import type { QwenTokenizer } from '../hf-io/tokenizer';
import { resolveGrpoConfig } from '../training/grpo/config';
import { SandboxEnvironment } from '../training/grpo/sandbox-env';
import { GrpoTrainer, sampledRuns, type StepMetrics } from '../training/grpo/trainer';
import { LoraAdapter } from '../training/model/lora-adapter';
import { playgroundTrainingRows } from '../training/model/train-plan';
import { LORA_TARGETS, type LoraTarget } from '../engine/ops/lora-targets';
import type { CheckpointStore } from '../checkpoints/store';
import type { LoadedCheckpoint, ModelIdentity } from '../checkpoints/types';
import { noLearningSignal, trainingMetricsOf, type TrainingConfig, type TrainingSample } from './training-types';

/** At most one progress event per this many ms inside a phase (a phase change is sent at once). */
const PROGRESS_INTERVAL_MS = 250;
import type { WorkerEvent } from './protocol';

let trainScenarios: Scenario[] | undefined;

export interface TrainingContext {
  engine: QwenEngine;
  tokenizer: QwenTokenizer;
  identity: () => Promise<ModelIdentity>;
  store?: CheckpointStore;
  label: string;
}

export class TrainingSession {
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private stopRequested = false;

  control(action: 'pause' | 'resume' | 'stop') {
    if (action === 'pause') this.paused = true;
    else {
      if (action === 'stop') this.stopRequested = true;
      this.paused = false;
      for (const w of this.resumeWaiters.splice(0)) w();
    }
  }

  async run(
    ctx: TrainingContext,
    config: TrainingConfig,
    emit: (e: WorkerEvent) => void,
    signal: AbortSignal,
  ): Promise<{ stoppedAtStep: number; checkpointIds: string[] }> {
    const { engine, tokenizer } = ctx;
    trainScenarios ??= generateScenarios({ split: 'train' });
    // Resuming continues a stored run: its adapter (rank, alpha and targets come from it), AdamW
    // moments, step count and metrics history. The store refuses a checkpoint of another base model.
    const resumed = config.resumeFrom ? await loadForResume(ctx, config.resumeFrom) : undefined;
    if (resumed && !(config.steps > resumed.step)) {
      throw Object.assign(new Error(`steps is the total to reach and must be larger than the checkpoint's step ${resumed.step}, got ${config.steps}`), {
        code: 'bad-request',
      });
    }
    const grpo = resolveGrpoConfig({
      lr: config.learningRate,
      groupSize: config.groupSize,
      promptsPerStep: 1,
      maxNewTokens: config.maxNewTokens,
      klBeta: config.klBeta,
      seed: config.seed,
      lora: resumed
        ? { rank: resumed.lora.rank, alpha: resumed.lora.alpha, targets: resumed.lora.targetModules as LoraTarget[] }
        : { rank: config.loraRank, alpha: 2 * config.loraRank, targets: [...LORA_TARGETS] },
      ...playgroundTrainingRows(engine.options.maxContext),
    });
    const adapter = new LoraAdapter(engine.ctx, engine.config, grpo.lora);
    if (resumed) adapter.load(new Map(Object.entries(resumed.adapter).map(([name, t]) => [name, { shape: t.shape, values: t.data }])));
    else adapter.initialise(config.seed + 1);
    const env = new SandboxEnvironment({
      scenarios: trainScenarios,
      tokenizer,
      maxNewTokens: config.maxNewTokens,
      maxTurns: 3,
      verifier: 'scenario',
      cellMix: config.cellMix,
      maxPromptTokens: engine.options.maxContext - 1,
      modelEosIds: engine.config.eosTokenIds,
    });
    const trainer = new GrpoTrainer(engine, adapter, env, grpo);
    if (resumed) {
      const moments = (key: 'm' | 'v') => Object.fromEntries(Object.entries(resumed.optimizer[key]).map(([name, t]) => [name, t.data]));
      trainer.optimizer.importState({ step: resumed.optimizer.step, m: moments('m'), v: moments('v') });
      trainer.stepCount = resumed.step;
      trainer.history.push(...(resumed.metrics as unknown as StepMetrics[]));
    }
    let lastProgress = 0,
      lastPhase = '';
    trainer.onProgress = (p) => {
      const now = performance.now();
      const phase = `${p.phase}:${'turn' in p ? p.turn : 'microBatch' in p ? p.microBatch : ''}`;
      if (phase === lastPhase && now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastPhase = phase;
      lastProgress = now;
      emit({ kind: 'train-progress', progress: { ...p, step: trainer.stepCount + 1, totalSteps: config.steps } });
    };
    const checkpointIds: string[] = [];
    const firstStep = trainer.stepCount;
    // The resumed history goes to the UI first (its charts continue it); elapsed time counts the
    // earlier steps too, so the ETA over the total step count stays right.
    let earlierSeconds = 0;
    const history = trainer.history.map((record) => {
      earlierSeconds += Number.isFinite(record.time_step_s) ? record.time_step_s : 0;
      return trainingMetricsOf(record, config.steps, earlierSeconds);
    });
    if (history.length) emit({ kind: 'train-history', metrics: history });
    const started = performance.now();
    const save = async () => {
      if (!ctx.store) return;
      const params = await adapter.read('params');
      const state = await trainer.optimizer.exportState();
      const toMap = (m: Record<string, Float32Array>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { shape: params.get(k)!.shape, data: v }]));
      const summary = await ctx.store.save({
        name: `${ctx.label} · step ${trainer.stepCount}`,
        step: trainer.stepCount,
        baseModel: await ctx.identity(),
        lora: { rank: grpo.lora.rank, alpha: grpo.lora.alpha, targetModules: [...grpo.lora.targets] },
        adapter: Object.fromEntries([...params].map(([k, v]) => [k, { shape: v.shape, data: v.values }])),
        optimizer: { step: state.step, m: toMap(state.m), v: toMap(state.v) },
        rng: { algorithm: 'grpo-step-seed', state: [grpo.seed >>> 0, trainer.stepCount >>> 0] },
        trainerConfig: JSON.parse(JSON.stringify(grpo)),
        metrics: JSON.parse(JSON.stringify(trainer.history)),
      });
      checkpointIds.push(summary.id);
      emit({ kind: 'train-checkpoint', id: summary.id, step: trainer.stepCount });
    };
    try {
      while (trainer.stepCount < config.steps && !this.stopRequested && !signal.aborted) {
        if (this.paused) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
        if (this.stopRequested || signal.aborted) break;
        const m = await trainer.step(signal);
        const noSignal = noLearningSignal(trainer.lastRollouts.map((r) => r.rollout));
        emit({ kind: 'train-metrics', metrics: trainingMetricsOf(m, config.steps, earlierSeconds + (performance.now() - started) / 1000, noSignal) });
        const first = trainer.lastRollouts[0];
        if (first) {
          const summary = first.rollout.info?.summary as { scenarioId: string; cell: Cell } | undefined;
          const text = first.rollout.sequences
            .flatMap(sampledRuns)
            .map((ids) => tokenizer.decode(ids, { skipSpecialTokens: false }))
            .join('\n⋯\n');
          const sample: TrainingSample = {
            step: trainer.stepCount,
            scenarioId: summary?.scenarioId ?? '',
            cell: summary?.cell ?? 'BU-BT',
            reward: first.rollout.reward,
            advantage: first.advantage,
            text,
          };
          emit({ kind: 'train-sample', sample });
        }
        if (config.checkpointEvery > 0 && trainer.stepCount % config.checkpointEvery === 0) await save();
      }
      // The final state is always saved, unless the last step's periodic checkpoint already holds it.
      if (trainer.stepCount > firstStep && trainer.stepCount % config.checkpointEvery !== 0) await save();
      return { stoppedAtStep: trainer.stepCount, checkpointIds };
    } finally {
      engine.setAdapter(null);
      trainer.destroy();
      adapter.destroy();
    }
  }
}

async function loadForResume(ctx: TrainingContext, checkpointId: string): Promise<LoadedCheckpoint> {
  if (!ctx.store) throw new Error(`cannot resume from checkpoint ${checkpointId}: checkpoint storage (IndexedDB) is not available here`);
  return ctx.store.load(checkpointId, { expectedBaseModel: await ctx.identity() });
}
