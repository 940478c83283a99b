// The Train tab's live charts, from a list of TrainingMetrics (one per step).
import { createMemo, type JSX } from 'solid-js';
import { CELLS } from '../../sandbox/index';
import { LineChart, type ChartSeries } from '../components/LineChart';
import type { CellRates, TrainingMetrics } from '../training-client';

export function cellSeries(metrics: TrainingMetrics[], key: keyof CellRates): ChartSeries[] {
  return CELLS.filter((c) => metrics.some((m) => m.perCell[c])).map((c) => ({ label: c, values: metrics.map((m) => m.perCell[c]?.[key] ?? null) }));
}

export function TrainingCharts(props: { metrics: TrainingMetrics[] }): JSX.Element {
  const x = createMemo(() => props.metrics.map((m) => m.step));
  return (
    <div class="charts">
      <LineChart title="Mean reward" x={x()} series={[{ label: 'reward', values: props.metrics.map((m) => m.meanReward) }]} testId="chart-reward" />
      <LineChart title="Refusal rate per cell" x={x()} series={cellSeries(props.metrics, 'refusal')} />
      <LineChart title="Verification rate per cell" x={x()} series={cellSeries(props.metrics, 'verification')} />
      <LineChart title="Attack success rate per cell" x={x()} series={cellSeries(props.metrics, 'attackSuccess')} />
      <LineChart title="Task completion per cell" x={x()} series={cellSeries(props.metrics, 'completion')} />
      <LineChart title="KL to the base policy" x={x()} series={[{ label: 'KL', values: props.metrics.map((m) => m.kl) }]} />
      <LineChart title="Gradient norm" x={x()} series={[{ label: 'grad norm', values: props.metrics.map((m) => m.gradNorm) }]} />
    </div>
  );
}
