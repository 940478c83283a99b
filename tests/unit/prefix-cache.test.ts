// The prefix cache's slot choice and sharing plan (CPU only; the GPU equality tests are in
// tests/gpu/engine/prefix-cache.test.ts).
import { describe, expect, it } from 'vitest';
import { commonPrefix, PrefixCache } from '../../src/engine/prefix-cache';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** Fills `slot` as generate does: claim, then one write per position. */
function hold(cache: PrefixCache, slot: number, ids: number[], key = 'base') {
  cache.claim(slot, [], key);
  ids.forEach((id, pos) => cache.wrote(slot, pos, id));
}

describe('prefix cache plan', () => {
  it('a group sharing one prompt: the first prefills, the others copy all but the last token', () => {
    const cache = new PrefixCache(4);
    const p = range(10, 9);
    const plan = cache.plan([p, p, p], 'base');
    expect(new Set(plan.slots).size).toBe(3);
    expect(plan.reused).toEqual([0, 8, 8]);
    expect(plan.source).toEqual([{ kind: 'none' }, { kind: 'copy', from: 0 }, { kind: 'copy', from: 0 }]);
    expect(plan.rounds).toEqual([0, 1, 1]);
  });

  it('a request extending a slot gets that slot and keeps its prefix; ties prefer the slot with less past it', () => {
    const cache = new PrefixCache(3);
    const turn1 = range(1, 6);
    hold(cache, 2, [...turn1, 50, 51]); // prompt + sampled ids (the last sampled id never fed)
    hold(cache, 0, [...turn1, 60, 61, 62, 63]);
    hold(cache, 1, turn1);
    const plan = cache.plan(
      [
        [...turn1, 50, 51, 52, 7, 8],
        [...turn1, 9],
      ],
      'base',
    );
    expect(plan.slots[0]).toBe(2);
    expect(plan.reused[0]).toBe(8);
    expect(plan.source[0]).toEqual({ kind: 'kept' });
    // Both other slots share the 6-token turn1; slot 1 holds nothing past it, so slot 0's longer continuation survives.
    expect(plan.slots[1]).toBe(1);
    expect(plan.reused[1]).toBe(6);
  });

  it('never reuses the last prompt token, nor K/V of other weights', () => {
    const cache = new PrefixCache(2);
    hold(cache, 0, range(1, 10), 'lora 1 v0');
    expect(cache.plan([range(1, 5)], 'lora 1 v0').reused).toEqual([4]);
    expect(cache.plan([range(1, 5)], 'base').reused).toEqual([0]);
    expect(cache.plan([range(1, 5)], 'lora 1 v1').reused).toEqual([0]);
    expect(cache.plan([[1]], 'lora 1 v0').reused).toEqual([0]);
  });

  it('copies the longest shared prefix in the batch when it beats the own slot, in rounds', () => {
    const cache = new PrefixCache(4);
    const a = range(0, 12);
    const b = [...range(0, 5), 99, 98, 97];
    hold(cache, 3, range(0, 3));
    const plan = cache.plan([b, a, b], 'base');
    // b (request 0) keeps 3 from slot 3 and goes first; a copies 5 from it; the second b copies 7.
    expect(plan.slots[0]).toBe(3);
    expect(plan.source).toEqual([{ kind: 'kept' }, { kind: 'copy', from: 0 }, { kind: 'copy', from: 0 }]);
    expect(plan.reused).toEqual([3, 5, 7]);
    expect(plan.rounds).toEqual([0, 1, 1]);
  });

  it('evicts empty slots first, then the least recently used', () => {
    const cache = new PrefixCache(3);
    hold(cache, 0, [1, 2, 3]);
    hold(cache, 2, [4, 5, 6]);
    expect(cache.plan([[7, 8]], 'base').slots).toEqual([1]);
    hold(cache, 1, [9, 9]);
    expect(cache.plan([[7, 8]], 'base').slots).toEqual([0]);
  });

  it('forgets a slot whose writes go out of order, and rejects more requests than slots', () => {
    const cache = new PrefixCache(1);
    hold(cache, 0, [1, 2]);
    expect(() => cache.wrote(0, 5, 3)).toThrow(/holds 2 positions but position 5/);
    expect(cache.heldIds(0, 'base')).toEqual([]);
    expect(() => cache.plan([[1], [2]], 'base')).toThrow(/2 requests for 1 slots/);
  });

  it('commonPrefix', () => {
    expect(commonPrefix([1, 2, 3], [1, 2, 4, 5])).toBe(2);
    expect(commonPrefix([], [1])).toBe(0);
  });
});
