// Where each training sequence's tokens sit in a micro-batch of B rows × T tokens (pure CPU, no
// GPU). A row holds either one sequence (the plain layout: token t at row index t) or several
// sequences that share their first `prefix` tokens, packed as
//   [prefix | rest of sequence 1 | … | rest of sequence n]
// (shared-prefix packing, after Prefix Grouper): the prefix is computed once per row, every rest
// attends to the prefix and to itself only (a segment table for the attention kernels, see
// ops/attention-backward-common.ts), and its positions continue from the prefix, so each sequence's
// hidden states, log-probs and gradients equal those of the sequence on its own, while the
// prefix's gradient sums over the sequences that read it.
//
// A shared row predicts one next token for everyone, so a packed sequence may be scored only
// inside its rest: scoreFrom ≥ prefix + 1 (callers end the prefix one token before the first
// scored token; see grpo/packing.ts).
import { segmentTable, type SequenceSegments } from '../ops/attention-backward-common';

export interface TrainSequence {
  ids: readonly number[];
  /** Tokens t ≥ scoreFrom are scored (their log-probs computed and trainable); default 1. */
  scoreFrom?: number;
}

export interface PackedRow {
  /** Leading tokens every sequence of the row shares (0: no sharing). */
  prefix: number;
  sequences: readonly TrainSequence[];
}

/** One sequence's place: row r, and the row index of its token `prefix` (the start of its rest). */
interface Placement {
  row: number;
  prefix: number;
  restStart: number;
  length: number;
  scoreFrom: number;
  /** The row packs more than one sequence. */
  shared: boolean;
}

export interface BatchLayout {
  /** B and T of the micro-batch (T: the longest row rounded up to `bucket`, ≤ the limit). */
  sequences: number;
  seqLen: number;
  ids: Uint32Array;
  /** RoPE position of every token (a rest continues from its prefix; padding 0). */
  positions: Uint32Array;
  /** Row i's target: the token after it in its own sequence (0 where none). */
  targets: Uint32Array;
  /** Segment table for the attention, or null when no row packs more than one sequence. */
  segments: Uint32Array | null;
  placements: Placement[];
  /** Token rows the batch really computes (excluding padding). */
  tokens: number;
  /** Tokens of the sequences as if each were laid out on its own. */
  unpackedTokens: number;
}

/** Tokens a row occupies: its prefix once, plus every sequence's rest. */
export function rowTokens(row: PackedRow): number {
  return row.sequences.length === 0 ? 0 : row.prefix + row.sequences.reduce((n, s) => n + s.ids.length - row.prefix, 0);
}

export function layoutBatch(
  rows: readonly PackedRow[],
  options: { maxSeqLen: number; maxPosition: number; vocabSize: number; padId?: number; bucket: number },
): BatchLayout {
  // An empty micro-batch is a caller's bug (a loop stepping by zero rows spun forever on it).
  if (rows.length === 0 || rows.some((r) => r.sequences.length === 0))
    throw new Error('a micro-batch needs at least one row, and every row at least one sequence');
  const longest = rows.reduce((n, r) => Math.max(n, rowTokens(r)), 0);
  if (longest > options.maxSeqLen) throw new Error(`a micro-batch row holds ${longest} tokens, the plan allows ${options.maxSeqLen}`);
  const B = Math.max(1, rows.length);
  const T = Math.min(options.maxSeqLen, Math.max(2, Math.ceil(longest / options.bucket) * options.bucket));
  const ids = new Uint32Array(B * T).fill(options.padId ?? 0);
  const positions = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T);
  const placements: Placement[] = [];
  const packing: SequenceSegments[] = [];
  let tokens = 0;
  let unpackedTokens = 0;
  let packed = false;
  let index = 0;
  rows.forEach((row, b) => {
    const { prefix } = row;
    if (!Number.isInteger(prefix) || prefix < 0) throw new Error(`row ${b}: prefix must be a non-negative integer, got ${prefix}`);
    const shared = row.sequences.length > 1;
    if (shared) packed = true;
    const first = row.sequences[0]?.ids;
    let cursor = b * T + prefix;
    const segments: number[] = [];
    for (const seq of row.sequences) {
      const name = `sequence ${index++}`;
      const n = seq.ids.length;
      const scoreFrom = seq.scoreFrom ?? 1;
      if (n < prefix) throw new Error(`${name}: ${n} tokens, shorter than its row's shared prefix of ${prefix}`);
      if (n > options.maxPosition) throw new Error(`${name}: ${n} tokens exceed the engine's context of ${options.maxPosition}`);
      for (let t = 0; t < prefix; t++) if (seq.ids[t] !== first![t]) throw new Error(`${name}: token ${t} differs from the row's shared prefix`);
      const lowest = shared ? prefix + 1 : 1;
      if (!Number.isInteger(scoreFrom) || scoreFrom < lowest)
        throw new Error(
          `${name}: scoreFrom ${scoreFrom} must be ≥ ${shared ? `prefix + 1 = ${lowest} (a shared row predicts one token for every sequence)` : 1}`,
        );
      for (const id of seq.ids)
        if (!Number.isInteger(id) || id < 0 || id >= options.vocabSize) throw new Error(`${name}: token id ${id} is outside the vocabulary`);
      placements.push({ row: b, prefix, restStart: cursor, length: n, scoreFrom, shared });
      unpackedTokens += n;
      for (let t = prefix; t < n; t++) {
        ids[cursor + t - prefix] = seq.ids[t];
        positions[cursor + t - prefix] = t;
        if (t + 1 < n) targets[cursor + t - prefix] = seq.ids[t + 1];
      }
      if (n > prefix) segments.push(n - prefix);
      cursor += n - prefix;
    }
    if (first) {
      for (let t = 0; t < prefix; t++) {
        ids[b * T + t] = first[t];
        positions[b * T + t] = t;
        targets[b * T + t] = t + 1 < prefix ? first[t + 1] : (row.sequences[0].ids[prefix] ?? 0);
      }
    }
    tokens += rowTokens(row);
    packing.push({ prefix, segments });
  });
  const segments = packed ? segmentTable(packing.concat(Array(B - rows.length).fill({ prefix: 0, segments: [] })), T) : null;
  return { sequences: B, seqLen: T, ids, positions, targets, segments, placements, tokens, unpackedTokens };
}

/** The row whose output predicts token t (t ≥ 1) of sequence i (numbered across rows in order). */
export function predictionRow(layout: BatchLayout, i: number, t: number): number {
  const p = layout.placements[i];
  if (!p || t < 1 || t >= p.length) throw new Error(`no prediction row for token ${t} of sequence ${i}`);
  const rowStart = p.row * layout.seqLen;
  if (t - 1 < p.prefix) {
    if (t === p.prefix && p.shared) throw new Error(`token ${t} of sequence ${i} is predicted by a shared prefix row`);
    return rowStart + t - 1;
  }
  return p.restStart + t - 1 - p.prefix;
}

/** Row ranges whose logits are needed: each sequence's scored tokens' prediction rows. */
export function scoredRanges(layout: BatchLayout): { start: number; count: number }[] {
  const ranges: { start: number; count: number }[] = [];
  layout.placements.forEach((p, i) => {
    if (p.length > p.scoreFrom) ranges.push({ start: predictionRow(layout, i, p.scoreFrom), count: p.length - p.scoreFrom });
  });
  return ranges;
}
