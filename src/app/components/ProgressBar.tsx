// A labelled progress bar with optional detail text (bytes, speed, ETA).
import { Show, type JSX } from 'solid-js';

export function ProgressBar(props: { label: string; value: number; max: number; detail?: string; testId?: string }): JSX.Element {
  const fraction = () => (props.max > 0 ? Math.min(1, Math.max(0, props.value / props.max)) : 0);
  return (
    <div class="progress" data-testid={props.testId}>
      <div class="progress-head">
        <span>{props.label}</span>
        <span>{(fraction() * 100).toFixed(0)}%</span>
      </div>
      <div
        class="progress-track"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction() * 100)}
      >
        <div class="progress-fill" style={{ width: `${fraction() * 100}%` }} />
      </div>
      <Show when={props.detail}>
        <div class="progress-detail">{props.detail}</div>
      </Show>
    </div>
  );
}
