// What the running step is doing, and whether the steps so far could teach the adapter anything.
import { Show, type JSX } from 'solid-js';
import type { TrainingMetrics, TrainingProgress } from '../training-client';

export function phaseText(p: TrainingProgress): string {
  const at = `Step ${p.step} of ${p.totalSteps}: `;
  if (p.phase === 'rollout')
    return at + (p.tokens === 0 ? `rollout turn ${p.turn}, reading the prompt (prefill)…` : `rollout turn ${p.turn}, ${p.tokens} token(s) sampled so far`);
  if (p.phase === 'forward-backward')
    return at + `forward–backward, micro-batch ${p.microBatch} of ${p.microBatches}${p.epoch > 0 ? ` (epoch ${p.epoch + 1})` : ''}`;
  return at + 'optimizer update';
}

/** Shown when steps had no learning signal: every reward in every group equal, so advantages were 0. */
export function NoSignalNotice(props: { metrics: TrainingMetrics[]; groupSize: number }): JSX.Element {
  const flat = () => props.metrics.filter((m) => m.noSignal);
  const last = () => props.metrics[props.metrics.length - 1];
  return (
    <Show when={flat().length}>
      <div class="alert" role="status" data-testid="no-signal">
        <p>
          <strong>
            {last()?.noSignal ? `Step ${last()!.step} had no learning signal` : `${flat().length} of ${props.metrics.length} step(s) had no learning signal`}
          </strong>
          : all {props.groupSize} rollouts of each scenario got the same reward ({last()?.meanReward.toFixed(2)}), so every advantage is 0 and the adapter did
          not change (KL and gradient norm stay 0). {flat().length} of {props.metrics.length} step(s) so far.
        </p>
        <p>
          What to change: a larger group size (more chances that rollouts differ), a cell mix with cells the model sometimes gets right and sometimes not, more
          max new tokens per turn (turns cut short all fail the format), or a stronger base model when every answer fails the format.
        </p>
      </div>
    </Show>
  );
}

/** The form's labels for the config's field names, so errors speak the form's language. */
const FIELD_LABELS: Record<string, string> = {
  groupSize: 'Group size G',
  learningRate: 'Learning rate',
  steps: 'Steps',
  loraRank: 'LoRA rank',
  klBeta: 'KL β',
  seed: 'Seed',
  checkpointEvery: 'Checkpoint every N steps',
  maxNewTokens: 'Max new tokens per turn',
  resumeFrom: 'Resume from',
  cellMix: 'Scenario mix',
};

/** "groupSize must be an integer from 2 to 64, got 1" → "Group size G must be a whole number from 2 to 64 (you entered 1)". */
export function humanConfigError(message: string): string {
  const m = /^([A-Za-z]+)(?:\.([A-Z]{2}-[A-Z]{2}))?(:? )(.*)$/s.exec(message);
  if (!m || !FIELD_LABELS[m[1]]) return message;
  const field = m[2] ? `${FIELD_LABELS[m[1]]} weight for ${m[2]}` : FIELD_LABELS[m[1]];
  const rest = m[4].replace(/\ban integer\b/g, 'a whole number').replace(/, got (.*)$/s, ' (you entered $1)');
  return `${field}${m[3]}${rest}`;
}
