// Worker entry for tests/browser/checkpoints-idb.test.ts: the same store inside a dedicated
// worker (no DOM): save the fixture, load it back, report the difference.
import { CheckpointStore } from '../../../src/checkpoints';
import { makeCheckpoint, type FixtureOptions } from './checkpoint-fixture';
import { loadDifference } from './checkpoint-compare';

self.onmessage = async (e: MessageEvent<FixtureOptions>) => {
  try {
    const store = new CheckpointStore({ chunkBytes: 16 * 1024 });
    const { id } = await store.save(makeCheckpoint(e.data));
    self.postMessage({ id, difference: await loadDifference(store, id, e.data) });
  } catch (error) {
    self.postMessage({ error: `${(error as Error).name}: ${(error as Error).message}` });
  }
};
