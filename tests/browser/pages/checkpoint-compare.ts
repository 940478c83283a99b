// Loads a checkpoint and says how it differs from the fixture regenerated from the same options
// (undefined when identical, bit for bit); shared by the page and the worker entries.
import type { CheckpointStore } from '../../../src/checkpoints';
import { makeCheckpoint, tensorMapDifference, type FixtureOptions } from './checkpoint-fixture';

export async function loadDifference(store: CheckpointStore, id: string, opts: FixtureOptions): Promise<string | undefined> {
  const expected = makeCheckpoint(opts);
  const got = await store.load(id, { expectedBaseModel: expected.baseModel });
  const tensorDiff =
    tensorMapDifference(got.adapter, expected.adapter) ??
    tensorMapDifference(got.optimizer.m, expected.optimizer.m) ??
    tensorMapDifference(got.optimizer.v, expected.optimizer.v);
  if (tensorDiff) return tensorDiff;
  const json = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  const fields = ['name', 'step', 'baseModel', 'lora', 'rng', 'trainerConfig', 'metrics'] as const;
  for (const f of fields) if (json(got[f]) !== json(expected[f])) return `${f} differs`;
  if (got.optimizer.step !== expected.optimizer.step) return 'optimizer.step differs';
  return undefined;
}
