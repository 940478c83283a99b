// The Train tab's memory figure, before a run: the loaded engine (or the Model tab's pick) plus
// what a GRPO step adds at the chosen LoRA rank, summed from the same size tables the engine and the
// trainer allocate from (engine/model/buffer-plan.ts, training/model/train-plan.ts). Formatted like
// the Model tab's estimate (CapabilityPanel).
import { Show, type JSX } from 'solid-js';
import { playgroundTrainingMemory } from '../../training/model/train-plan';
import { formatBytes } from '../lib/format';
import type { PlannedModel } from '../state';

export function TrainMemory(props: { model: PlannedModel | null; loaded: boolean; rank: number }): JSX.Element {
  const memory = () => {
    const m = props.model;
    if (!m || !Number.isInteger(props.rank) || props.rank < 1) return null;
    return playgroundTrainingMemory(m.config, { format: m.quant, maxContext: m.context, maxBatch: m.batch }, props.rank);
  };
  return (
    <Show
      when={memory()}
      fallback={
        <p class="note" data-testid="training-memory-none">
          Training memory: pick a model of known size in the Model tab (and a positive LoRA rank) to see it here.
        </p>
      }
    >
      {(e) => (
        <div data-testid="training-memory">
          <h3>
            Estimated GPU memory of training: {props.model!.label}, {props.model!.quant}, {props.model!.context} tokens{props.loaded ? '' : ' (not loaded yet)'}
          </h3>
          <dl class="kv">
            <dt>Model (weights, KV cache, activations)</dt>
            <dd>{formatBytes(e().engine)}</dd>
            <dt>LoRA rank {props.rank} (7 modules, with gradients)</dt>
            <dd>{formatBytes(e().lora)}</dd>
            <dt>AdamW state</dt>
            <dd>{formatBytes(e().optimizer)}</dd>
            <dt>Training activations</dt>
            <dd>{formatBytes(e().activations)}</dd>
            <dt>Total</dt>
            <dd>
              <strong data-testid="training-memory-total">{formatBytes(e().total)}</strong>
            </dd>
          </dl>
          <p class="note">
            Rollouts run {props.model!.batch} at a time and a group trains in packed rows of a fixed size, so G changes time per step, not memory.
          </p>
        </div>
      )}
    </Show>
  );
}
