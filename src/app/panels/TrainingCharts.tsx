// The Train tab's live charts, from a list of TrainingMetrics (one per step).
import { createMemo, type JSX } from 'solid-js';
import { LineChart } from '../components/LineChart';
import { cellSeries, scalarSeries } from '../lib/chart-series';
import type { TrainingMetrics } from '../training-client';

export function TrainingCharts(props: { metrics: TrainingMetrics[] }): JSX.Element {
  const x = createMemo(() => props.metrics.map((m) => m.step));
  return (
    <div class="charts">
      <LineChart title="Mean reward" x={x()} series={scalarSeries(props.metrics, 'reward', (m) => m.meanReward)} testId="chart-reward" />
      <LineChart title="Refusal rate per cell" x={x()} series={cellSeries(props.metrics, 'refusal')} />
      <LineChart title="Verification rate per cell" x={x()} series={cellSeries(props.metrics, 'verification')} />
      <LineChart title="Attack success rate per cell" x={x()} series={cellSeries(props.metrics, 'attackSuccess')} />
      <LineChart title="Task completion per cell" x={x()} series={cellSeries(props.metrics, 'completion')} />
      <LineChart title="KL to the base policy" x={x()} series={scalarSeries(props.metrics, 'KL', (m) => m.kl)} testId="chart-kl" />
      <LineChart title="Gradient norm" x={x()} series={scalarSeries(props.metrics, 'grad norm', (m) => m.gradNorm)} testId="chart-grad-norm" />
    </div>
  );
}
