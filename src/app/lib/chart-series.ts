// Turns training metrics into chart series (pure: tested without a DOM).
import { CELLS } from '../../sandbox/index';
import type { CellRates, TrainingMetrics } from '../training-client';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color?: string;
}

/** A fixed colour per cell, so a cell looks the same in every chart. */
export const CELL_COLORS = ['#2563eb', '#0891b2', '#65a30d', '#dc2626', '#db2777', '#7c3aed', '#d97706', '#4b5563', '#16a34a'];

/** One series per cell that appears in any step; steps without that cell give null (a gap). */
export function cellSeries(metrics: TrainingMetrics[], key: keyof CellRates): ChartSeries[] {
  return CELLS.filter((c) => metrics.some((m) => m.perCell[c])).map((c) => ({
    label: c,
    color: CELL_COLORS[CELLS.indexOf(c)],
    values: metrics.map((m) => m.perCell[c]?.[key] ?? null),
  }));
}

export function scalarSeries(metrics: TrainingMetrics[], label: string, pick: (m: TrainingMetrics) => number): ChartSeries[] {
  return [{ label, values: metrics.map((m) => (Number.isFinite(pick(m)) ? pick(m) : null)) }];
}

/**
 * The value axis of a chart, fitted to the data: a flat series gets a small band around its value
 * (0 → [0, 1]) instead of uPlot's default 0–100; otherwise the data range with 5 % padding, not
 * going below 0 for data that does not.
 */
export function valueRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max - min < 1e-12) {
    const pad = Math.abs(min) * 0.1 || 1;
    return min === 0 ? [0, 1] : [min - pad, max + pad];
  }
  const pad = (max - min) * 0.05;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

/** The step axis: whole steps only; a single step is centred in [s − 1, s + 1]. */
export function stepRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null) return [0, 1];
  return min === max ? [min - 1, max + 1] : [min, max];
}

/** Tick spacings for a step axis: integers only. */
export const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
