// Turns training metrics into chart series (pure: tested without a DOM).
import { CELLS } from '../../sandbox/index';
import type { CellRates, TrainingMetrics } from '../training-client';

export interface ChartSeries { label: string; values: (number | null)[] }

/** One series per cell that appears in any step; steps without that cell give null (a gap). */
export function cellSeries(metrics: TrainingMetrics[], key: keyof CellRates): ChartSeries[] {
  return CELLS.filter((c) => metrics.some((m) => m.perCell[c])).map((c) => ({ label: c, values: metrics.map((m) => m.perCell[c]?.[key] ?? null) }));
}

export function scalarSeries(metrics: TrainingMetrics[], label: string, pick: (m: TrainingMetrics) => number): ChartSeries[] {
  return [{ label, values: metrics.map((m) => (Number.isFinite(pick(m)) ? pick(m) : null)) }];
}
