// Turns training metrics into chart series (pure: tested without a DOM).
import { CELLS } from '../../sandbox/index';
import type { CellRates, TrainingMetrics } from '../training-client';

export interface ChartSeries { label: string; values: (number | null)[]; color?: string }

/** A fixed colour per cell, so a cell looks the same in every chart. */
export const CELL_COLORS = ['#2563eb', '#0891b2', '#65a30d', '#dc2626', '#db2777', '#7c3aed', '#d97706', '#4b5563', '#16a34a'];

/** One series per cell that appears in any step; steps without that cell give null (a gap). */
export function cellSeries(metrics: TrainingMetrics[], key: keyof CellRates): ChartSeries[] {
  return CELLS.filter((c) => metrics.some((m) => m.perCell[c])).map((c) => ({ label: c, color: CELL_COLORS[CELLS.indexOf(c)], values: metrics.map((m) => m.perCell[c]?.[key] ?? null) }));
}

export function scalarSeries(metrics: TrainingMetrics[], label: string, pick: (m: TrainingMetrics) => number): ChartSeries[] {
  return [{ label, values: metrics.map((m) => (Number.isFinite(pick(m)) ? pick(m) : null)) }];
}
