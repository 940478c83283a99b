// GRPO training inside the engine worker's logic (EngineHost.train) under Node + Dawn, on the
// built-in tiny model with real sandbox scenarios (tool schemas included, ~600–1300-token prompts):
// metrics, samples and checkpoints stream as events; pause holds between steps, stop ends after the
// current step; checkpoints land in the store (fake-indexeddb) with optimizer state and the base
// model's identity, and a run resumed from one continues its step count and history. The host stays
// usable for generation afterwards.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHost, describeError } from '../../src/worker-api/engine-host';
import type { WorkerEvent } from '../../src/worker-api/protocol';
import { CheckpointStore } from '../../src/checkpoints/store';
import { CELLS, type Cell } from '../../src/sandbox/index';
import type { TrainingConfig } from '../../src/app/training-client';
import { getTestDevice } from '../helpers/gpu';

const maliciousOnly = Object.fromEntries(CELLS.map((c) => [c, c.startsWith('M') ? 1 : 0])) as Record<Cell, number>;

const CONFIG: TrainingConfig = {
  cellMix: maliciousOnly,
  groupSize: 2,
  learningRate: 1e-3,
  steps: 3,
  loraRank: 2,
  klBeta: 0.04,
  seed: 5,
  checkpointEvery: 1,
  maxNewTokens: 3,
};

type Metrics = Extract<WorkerEvent, { kind: 'train-metrics' }>['metrics'];

describe('EngineHost.train on the tiny model with sandbox scenarios', () => {
  const store = new CheckpointStore({ dbName: 'engine-host-train-test' });
  const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device, checkpointStore: store });
  beforeAll(async () => {
    await host.load({ model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q4', maxContext: 1536, maxBatch: 2 }, () => {});
  });
  afterAll(() => host.unload());

  const events: WorkerEvent[] = [];
  let result: { stoppedAtStep: number; checkpointIds: string[] };

  // SwiftShader runs these steps at ~1 GFLOP/s (600–1300-token prompts, first-use shader compiles).
  const STEP_TIMEOUT = 900_000;

  it(
    'streams metrics, samples and checkpoints; pause holds, stop ends after the current step',
    async () => {
      let pausedAt = 0;
      let eventsWhilePaused = -1;
      result = await host.train(
        CONFIG,
        (e) => {
          events.push(e);
          if (process.env.TRAIN_TEST_LOG) console.log(new Date().toISOString(), e.kind, JSON.stringify(e).slice(0, 300));
          if (e.kind !== 'train-metrics') return;
          if (e.metrics.step === 1) {
            host.trainControl('pause');
            pausedAt = events.length;
            // While paused no further step starts; the step-1 checkpoint may still be saved.
            setTimeout(() => {
              eventsWhilePaused = events.slice(pausedAt).filter((x) => x.kind === 'train-metrics').length;
              host.trainControl('resume');
            }, 1500);
          }
          if (e.metrics.step === 2) host.trainControl('stop');
        },
        new AbortController().signal,
      );

      expect(eventsWhilePaused).toBe(0);
      expect(result.stoppedAtStep).toBe(2);
      const metrics = events.filter((e) => e.kind === 'train-metrics').map((e) => (e as { metrics: Metrics }).metrics);
      expect(metrics.map((m) => m.step)).toEqual([1, 2]);
      for (const m of metrics) {
        expect(m.totalSteps).toBe(3);
        for (const v of [m.meanReward, m.kl, m.gradNorm, m.elapsedSeconds]) expect(Number.isFinite(v)).toBe(true);
        // Only malicious-user cells are in the mix, and each step reports its cells' rates in [0, 1].
        const cells = Object.keys(m.perCell);
        expect(cells.length).toBeGreaterThan(0);
        for (const cell of cells) {
          expect(cell.startsWith('M')).toBe(true);
          for (const rate of Object.values(m.perCell[cell as Cell]!)) expect(rate === null || (rate >= 0 && rate <= 1)).toBe(true);
        }
      }
      const samples = events.filter((e) => e.kind === 'train-sample');
      expect(samples).toHaveLength(2);
      for (const s of samples) expect((s as Extract<WorkerEvent, { kind: 'train-sample' }>).sample.cell.startsWith('M')).toBe(true);
      const checkpoints = events.filter((e) => e.kind === 'train-checkpoint') as Extract<WorkerEvent, { kind: 'train-checkpoint' }>[];
      expect(checkpoints.map((c) => c.step)).toEqual([1, 2]);
      expect(result.checkpointIds).toEqual(checkpoints.map((c) => c.id));
    },
    STEP_TIMEOUT,
  );

  it('stores whole checkpoints with optimizer state, metrics history and the base model identity', async () => {
    const listed = await store.list();
    expect(listed.map((c) => c.step).sort()).toEqual([1, 2]);
    const last = await store.load(result.checkpointIds[1], { expectedBaseModel: await host.model!.identity() });
    expect(last.baseModel.repo).toBe('builtin/tiny-qwen2');
    expect(last.lora.rank).toBe(2);
    expect(last.optimizer.step).toBe(2);
    expect(last.metrics).toHaveLength(2);
    const tensors = Object.values(last.adapter);
    expect(tensors.length).toBe(2 * 7 * 2); // 2 layers × 7 targets × (A, B)
    for (const t of tensors) expect(t.data.every(Number.isFinite)).toBe(true);
  });

  it(
    'resumes from a checkpoint: continues the step count, history and optimizer state',
    async () => {
      const resumed: WorkerEvent[] = [];
      const r = await host.train({ ...CONFIG, steps: 3, resumeFrom: result.checkpointIds[1] }, (e) => resumed.push(e), new AbortController().signal);
      expect(r.stoppedAtStep).toBe(3);
      const metrics = resumed.filter((e) => e.kind === 'train-metrics').map((e) => (e as { metrics: Metrics }).metrics);
      expect(metrics.map((m) => m.step)).toEqual([3]);
      const saved = await store.load(r.checkpointIds[r.checkpointIds.length - 1], { expectedBaseModel: 'any' });
      expect(saved.step).toBe(3);
      expect(saved.optimizer.step).toBe(3);
      expect(saved.metrics).toHaveLength(3);
    },
    STEP_TIMEOUT,
  );

  it(
    'refuses a second run while one is going, and a resume from a missing checkpoint, clearly',
    async () => {
      const missing = await host.train({ ...CONFIG, resumeFrom: 'no-such-checkpoint' }, () => {}, new AbortController().signal).catch((e) => e);
      expect(describeError(missing).message).toMatch(/no-such-checkpoint/);
      const first = host.train({ ...CONFIG, steps: 1 }, () => {}, new AbortController().signal);
      const second = await host.train(CONFIG, () => {}, new AbortController().signal).catch((e) => e);
      expect(describeError(second)).toEqual({ code: 'busy', message: expect.stringMatching(/already going/) });
      await first;
    },
    STEP_TIMEOUT,
  );

  it('the host still generates after training, with the base model (no adapter left on)', async () => {
    expect(host.model!.engine.adapter).toBeNull();
    const out = await host.generate({ promptIds: [[100, 200, 300]], maxNewTokens: 2, sampling: { greedy: true } }, () => {});
    expect(out.sequences[0].ids).toHaveLength(2);
  });
});
