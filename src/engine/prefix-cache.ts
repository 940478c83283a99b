// Automatic prefix caching for generation, keyed on token ids: callers always send whole prompts,
// and the engine skips the prefill of any prompt prefix whose K/V it already holds. The unit is a
// KV-cache slot (one per batch row): the table below remembers which token ids each slot's
// positions 0..n-1 were computed from, and under which weights (QwenEngine.weightsKey: the base
// model, or one adapter object with a fingerprint of its current weights), since the same ids
// under other weights give other K/V.
//
// Two kinds of reuse, both exact (K/V at position p depends only on the ids 0..p and the weights):
// - kept: a request is given the slot whose held ids share its longest prefix, e.g. a multi-turn
//   episode whose new prompt is its previous prompt + sampled ids + the new messages; only the
//   rest is prefilled, over the slot's stale tail.
// - copied: requests of one batch that share a prompt prefix (the G rollouts of a GRPO group)
//   prefill it once; the others copy its K/V into their slots (encodeKvCopy) after that prefill
//   and prefill only what differs. That makes prefill run in rounds: round r + 1's copies read
//   slots that round r has filled.
// The last prompt token is always prefilled, as its logits give the first sampled token.

/** Where a request's first `reused` prompt positions come from. */
export type ReuseSource = { kind: 'none' } | { kind: 'kept' } | { kind: 'copy'; from: number };

export interface PrefillPlan {
  /** KV-cache slot of each request (distinct). */
  slots: number[];
  /** Prompt positions [0, reused[i]) of request i are not prefilled. */
  reused: number[];
  source: ReuseSource[];
  /** Prefill round of each request; copies into a round-r request happen after round r − 1. */
  rounds: number[];
}

/** Prompt tokens of one sequence by where their K/V came from (they sum to the prompt length unless the call was cancelled first). */
export interface PromptReuse {
  /** Run through the model in this call. */
  prefilled: number;
  /** Already in the sequence's slot from an earlier call (an earlier prompt + its sampled ids). */
  kept: number;
  /** Copied from another slot that prefilled the same prefix in this call. */
  copied: number;
}

interface SlotContents {
  /** Token ids whose K/V are at positions 0..ids.length − 1. */
  ids: number[];
  /** Weights they were computed under. */
  key: string;
  lastUse: number;
}

/** Length of the common prefix of a and b. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class PrefixCache {
  private readonly held: (SlotContents | null)[];
  private clock = 0;
  /** Prompt tokens over the engine's life, by source (for benches). */
  readonly totals: PromptReuse = { prefilled: 0, kept: 0, copied: 0 };

  constructor(readonly slotCount: number) {
    this.held = new Array<SlotContents | null>(slotCount).fill(null);
  }

  /** The ids whose K/V `slot` holds under `key` (empty when it holds none or other weights'). */
  heldIds(slot: number, key: string): readonly number[] {
    const h = this.held[slot];
    return h && h.key === key ? h.ids : [];
  }

  /** Marks a slot's K/V as unknown (it is about to be written by something else). */
  forget(slot: number) {
    this.held[slot] = null;
  }

  clear() {
    this.held.fill(null);
  }

  /**
   * Chooses slots and reuse for a batch of prompts under weights `key`. Nothing is changed until
   * `claim`; requests.length must be ≤ slotCount.
   */
  plan(prompts: readonly (readonly number[])[], key: string): PrefillPlan {
    const B = prompts.length;
    if (B > this.slotCount) throw new Error(`prefix cache: ${B} requests for ${this.slotCount} slots`);
    const usable = (i: number, length: number) => Math.min(length, prompts[i].length - 1);
    // 1. Slots: the longest held prefix wins (ties: the slot with less content past it, so longer
    // cached continuations survive for the requests that extend them); the rest take empty slots,
    // then the least recently used.
    const candidates: { i: number; s: number; kept: number; waste: number }[] = [];
    for (let i = 0; i < B; i++) {
      for (let s = 0; s < this.slotCount; s++) {
        const ids = this.heldIds(s, key);
        const kept = usable(i, commonPrefix(prompts[i], ids));
        if (kept > 0) candidates.push({ i, s, kept, waste: ids.length - kept });
      }
    }
    candidates.sort((a, b) => b.kept - a.kept || a.waste - b.waste || a.i - b.i || a.s - b.s);
    const slots = new Array<number>(B).fill(-1);
    const kept = new Array<number>(B).fill(0);
    const taken = new Set<number>();
    for (const c of candidates) {
      if (slots[c.i] >= 0 || taken.has(c.s)) continue;
      slots[c.i] = c.s;
      kept[c.i] = c.kept;
      taken.add(c.s);
    }
    const free = [...Array(this.slotCount).keys()]
      .filter((s) => !taken.has(s))
      .sort((a, b) => (this.held[a]?.lastUse ?? -1) - (this.held[b]?.lastUse ?? -1) || a - b);
    for (let i = 0; i < B; i++) if (slots[i] < 0) slots[i] = free.shift()!;

    // 2. Sharing within the batch: requests with the most kept go first; each later one copies the
    // longest prefix it shares with an earlier one, when that beats what its own slot keeps.
    const order = [...Array(B).keys()].sort((a, b) => kept[b] - kept[a] || a - b);
    const reused = [...kept];
    const source: ReuseSource[] = kept.map((k) => (k > 0 ? { kind: 'kept' } : { kind: 'none' }));
    const rounds = new Array<number>(B).fill(0);
    const done: number[] = [];
    for (const i of order) {
      let best = -1,
        bestLength = kept[i];
      for (const j of done) {
        const length = usable(i, commonPrefix(prompts[i], prompts[j]));
        if (length > bestLength || (length === bestLength && best >= 0 && rounds[j] < rounds[best])) {
          best = j;
          bestLength = length;
        }
      }
      if (best >= 0) {
        reused[i] = bestLength;
        source[i] = { kind: 'copy', from: best };
        rounds[i] = rounds[best] + 1;
      }
      done.push(i);
    }
    return { slots, reused, source, rounds };
  }

  /** Starts tracking `slot` for a request: it holds `ids` (the kept or copied prefix) under `key`. */
  claim(slot: number, ids: readonly number[], key: string) {
    this.held[slot] = { ids: [...ids], key, lastUse: ++this.clock };
  }

  /** Records that the K/V of `id` was written at `position` of `slot`. */
  wrote(slot: number, position: number, id: number) {
    const h = this.held[slot];
    if (!h) return;
    if (position !== h.ids.length) {
      // Positions are written in order after a claim; anything else means the table lost track.
      this.held[slot] = null;
      throw new Error(`prefix cache: slot ${slot} holds ${h.ids.length} positions but position ${position} was written`);
    }
    h.ids.push(id);
  }

  count(reuse: PromptReuse) {
    this.totals.prefilled += reuse.prefilled;
    this.totals.kept += reuse.kept;
    this.totals.copied += reuse.copied;
  }
}
