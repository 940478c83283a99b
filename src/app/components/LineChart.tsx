// A line chart driven by data (uPlot): give it x values and named series; it redraws when they
// change. Series labels are ours (metric names), never model text.
import { createEffect, onCleanup, onMount, type JSX } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { STEP_INCREMENTS, stepRange, valueRange, type ChartSeries } from '../lib/chart-series';

export type { ChartSeries };

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d'];

export function LineChart(props: { title: string; x: number[]; series: ChartSeries[]; xLabel?: string; height?: number; testId?: string }): JSX.Element {
  let host!: HTMLDivElement;
  let plot: uPlot | undefined;
  let shape = '';

  const build = () => {
    plot?.destroy();
    // Axis text in the page's text colour, so charts read in light and dark mode.
    const ink = getComputedStyle(host).color || '#444';
    const axis = { stroke: ink, grid: { stroke: 'rgba(128,128,128,0.25)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } };
    const opts: uPlot.Options = {
      title: props.title,
      width: Math.max(280, host.clientWidth || 480),
      height: props.height ?? 220,
      // Axes fitted to the data (a flat 0 series is not drawn on 0–100) and whole-step ticks.
      scales: { x: { time: false, range: (_u, min, max) => stepRange(min, max) }, y: { range: (_u, min, max) => valueRange(min, max) } },
      axes: [
        { label: props.xLabel ?? 'step', ...axis, incrs: STEP_INCREMENTS, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        axis,
      ],
      // The fitted ranges, as data attributes (tests read them; uPlot draws the axes on a canvas).
      hooks: {
        setScale: [
          (u, key) => {
            host.dataset[`${key}Range`] = `${u.scales[key].min},${u.scales[key].max}`;
          },
        ],
      },
      series: [
        { label: props.xLabel ?? 'step' },
        ...props.series.map((s, i) => ({ label: s.label, stroke: s.color ?? PALETTE[i % PALETTE.length], width: 2 })),
      ],
    };
    plot = new uPlot(opts, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, host);
    shape = props.series.map((s) => s.label).join('|');
  };

  onMount(() => {
    build();
    const observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, host.clientWidth), height: props.height ?? 220 }));
    observer.observe(host);
    onCleanup(() => observer.disconnect());
  });
  createEffect(() => {
    const data = [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    if (!plot) return;
    if (props.series.map((s) => s.label).join('|') !== shape) build();
    else plot.setData(data);
  });
  onCleanup(() => plot?.destroy());
  // data-points: how many x values are drawn (tests read it; uPlot keeps its data on the instance).
  return <div class="chart" ref={host} data-testid={props.testId} data-points={props.x.length} role="img" aria-label={`${props.title} chart`} />;
}
