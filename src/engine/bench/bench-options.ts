// What a benchmark run measures, its defaults and its checks. Pure data and functions (no GPU, no
// DOM), so the bench page's form can import them without pulling engine code into the page.
import { MODEL_SHAPES, type ModelShapeName } from '../../../models/shapes';
import { isWeightFormat, WEIGHT_FORMATS, type WeightFormat } from '../quant/formats';

export const BENCH_SHAPES = Object.keys(MODEL_SHAPES) as ModelShapeName[];

export interface BenchSettings {
  shape: ModelShapeName;
  format: WeightFormat;
  /** Batch sizes, one measured run each; the engine is sized for the largest. */
  batches: number[];
  promptTokens: number;
  /** Tokens generated per sequence; the first comes from prefill, so decode steps = decodeTokens − 1. */
  decodeTokens: number;
  /** The GPU's memory bandwidth in GB/s, for `fraction_of_bandwidth_bound` (batch 1). */
  bandwidthGbps?: number;
}

/** Defaults: tiny sizes on a software adapter (SwiftShader runs about 1 GFLOP/s), real ones on a GPU. */
export function benchDefaults(isSoftware: boolean): BenchSettings {
  return isSoftware
    ? { shape: 'tiny', format: 'q4', batches: [1, 8], promptTokens: 16, decodeTokens: 8 }
    : { shape: 'qwen2.5-0.5b', format: 'q4', batches: [1, 8], promptTokens: 128, decodeTokens: 64 };
}

/** Every problem with the settings, each naming the field; empty when they can run. */
export function benchSettingsProblems(s: BenchSettings): string[] {
  const problems: string[] = [];
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  if (!BENCH_SHAPES.includes(s.shape)) problems.push(`shape must be one of ${BENCH_SHAPES.join(', ')}, got "${s.shape}"`);
  if (!isWeightFormat(s.format)) problems.push(`quant must be one of ${WEIGHT_FORMATS.join(', ')}, got "${s.format}"`);
  if (s.batches.length === 0 || !s.batches.every(positiveInt)) problems.push(`batches must be positive integers, got "${s.batches.join(',')}"`);
  if (!positiveInt(s.promptTokens)) problems.push(`prompt tokens must be a positive integer, got ${s.promptTokens}`);
  // One token comes out of prefill; decode speed needs at least one decode step after it.
  if (!Number.isInteger(s.decodeTokens) || s.decodeTokens < 2) problems.push(`decode tokens must be an integer ≥ 2, got ${s.decodeTokens}`);
  const shape = MODEL_SHAPES[s.shape];
  if (shape && positiveInt(s.promptTokens) && s.promptTokens + s.decodeTokens > shape.max_position_embeddings) {
    problems.push(`prompt + decode tokens (${s.promptTokens + s.decodeTokens}) exceed the ${s.shape} context of ${shape.max_position_embeddings}`);
  }
  if (s.bandwidthGbps !== undefined && !(Number.isFinite(s.bandwidthGbps) && s.bandwidthGbps > 0))
    problems.push(`bandwidth must be a positive number of GB/s, got ${s.bandwidthGbps}`);
  return problems;
}

/** Parses "1, 8" into [1, 8]; anything that is not a number comes out NaN for the checks above. */
export function parseBatchList(text: string): number[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
}
