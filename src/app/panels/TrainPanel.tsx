// Train: the GRPO configuration (a new run, or one resumed from a stored checkpoint), controls,
// live charts, progress and sample trajectories, all driven by a TrainingClient (the GRPO trainer
// in the engine worker). Without a loaded model Start is disabled and the tab says why: no metrics
// are ever invented here.
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { CELLS, type Cell } from '../../sandbox/index';
import { ProgressBar } from '../components/ProgressBar';
import { etaSeconds, formatDuration } from '../lib/format';
import {
  defaultTrainingConfig,
  validateTrainingConfig,
  type TrainingClient,
  type TrainingConfig,
  type TrainingControls,
  type TrainingMetrics,
  type TrainingProgress,
  type TrainingSample,
} from '../training-client';
import { humanConfigError, NoSignalNotice, phaseText } from './TrainProgress';
import { TrainingCharts } from './TrainingCharts';
import { resumableCheckpoints, TrainResume } from './TrainResume';
import { TrainMemory } from './TrainMemory';
import type { PlannedModel } from '../state';

type RunState =
  | { kind: 'idle' }
  | { kind: 'running'; total: number; startStep: number; lastCheckpoint?: number }
  | { kind: 'finished'; step: number; checkpoints: number }
  | { kind: 'failed' };

export function TrainPanel(props: {
  client: TrainingClient;
  /** The loaded model (null when none): training runs on it, and its context bounds the turns. */
  modelLoaded?: () => { maxContext: number } | null;
  /** The model the memory figure is for: the loaded one, else the Model tab's pick (null: unknown size). */
  memoryModel?: () => PlannedModel | null;
  /** Bumped when the checkpoint store changes elsewhere (import, rename, delete). */
  checkpointsVersion?: () => number;
  /** Called when training stored a checkpoint, so other views can refresh. */
  onCheckpointsChanged?: () => void;
}): JSX.Element {
  const model = () => (props.modelLoaded ? props.modelLoaded() : undefined);
  // Re-asked whenever the loaded model changes: training needs a model in the worker.
  const [availability] = createResource(
    () => model() ?? true,
    () => props.client.availability().catch((e) => ({ available: false as const, reason: (e as Error).message })),
  );
  const [listVersion, setListVersion] = createSignal(0);
  const [checkpoints] = createResource(
    // Nothing can be resumed without a model (the worker checks the checkpoints against it).
    () => (model() === null ? false : { model: model(), version: props.checkpointsVersion?.() ?? 0, local: listVersion() }),
    () => props.client.listCheckpoints().catch((e) => ({ modelLoaded: false, items: [], error: (e as Error).message })),
  );
  const [config, setConfig] = createSignal<TrainingConfig>(defaultTrainingConfig());
  const [metrics, setMetrics] = createSignal<TrainingMetrics[]>([]);
  const [resumedRange, setResumedRange] = createSignal<[number, number] | null>(null);
  const [samples, setSamples] = createSignal<TrainingSample[]>([]);
  const [controls, setControls] = createSignal<TrainingControls | null>(null);
  const [paused, setPaused] = createSignal(false);
  const [run, setRun] = createSignal<RunState>({ kind: 'idle' });
  const [error, setError] = createSignal<string | null>(null);
  const [progress, setProgress] = createSignal<TrainingProgress | null>(null);
  const [stopping, setStopping] = createSignal(false);

  const resumeFrom = () => resumableCheckpoints(checkpoints()).find((c) => c.id === config().resumeFrom);
  const running = () => controls() !== null;
  // What Start sends: a resumed run keeps the checkpoint's rank (the worker takes it from the adapter).
  const effectiveConfig = (): TrainingConfig => {
    const rank = resumeFrom()?.rank;
    return rank !== undefined ? { ...config(), loraRank: rank } : config();
  };
  const errors = () => {
    const c = effectiveConfig();
    const found = resumeFrom();
    const problems = validateTrainingConfig(c, found?.step);
    if (c.resumeFrom !== undefined && !found && checkpoints())
      problems.push('resumeFrom: that checkpoint is no longer stored or does not fit the loaded model; pick another or a new run');
    const context = model()?.maxContext;
    if (context !== undefined && Number.isInteger(c.maxNewTokens) && c.maxNewTokens >= context) {
      problems.push(`maxNewTokens must be smaller than the loaded model's context of ${context} tokens, got ${c.maxNewTokens}`);
    }
    return problems;
  };
  const available = () => availability()?.available === true;
  const update = (patch: Partial<TrainingConfig>) => setConfig({ ...config(), ...patch });
  // Everything that changes is read inside the JSX (label, disabled, value): the inputs are built
  // once, so a change elsewhere never replaces an input while someone types in it.
  type Field = { label: () => string; disabled?: () => boolean; value?: () => number | undefined; describedBy?: () => string | undefined };
  const num = (key: Exclude<keyof TrainingConfig, 'cellMix' | 'resumeFrom'>, label: string | Field, step = '1') => {
    const f: Field = typeof label === 'string' ? { label: () => label } : label;
    return (
      <>
        <label for={`cfg-${key}`}>{f.label()}</label>
        <input
          id={`cfg-${key}`}
          type="number"
          step={step}
          disabled={running() || !!f.disabled?.()}
          aria-describedby={f.describedBy?.()}
          value={f.value?.() ?? config()[key]}
          onChange={(e) => update({ [key]: Number(e.currentTarget.value) })}
        />
      </>
    );
  };

  const start = () => {
    const resumed = resumeFrom();
    const c = effectiveConfig();
    setError(null);
    setMetrics([]);
    setSamples([]);
    setResumedRange(null);
    setProgress(null);
    setStopping(false);
    setRun({ kind: 'running', total: c.steps, startStep: resumed?.step ?? 0 });
    const checkpointIds = new Set<string>();
    const refreshCheckpoints = () => {
      setListVersion(listVersion() + 1);
      props.onCheckpointsChanged?.();
    };
    try {
      const ctl = props.client.start(c, {
        onMetrics: (m) => {
          setMetrics([...metrics(), m]);
          setProgress(null);
        },
        onProgress: setProgress,
        onSample: (s) => setSamples([s, ...samples()].slice(0, 20)),
        onHistory: (h) => {
          setMetrics([...h, ...metrics()]);
          if (h.length) setResumedRange([h[0].step, h[h.length - 1].step]);
        },
        onCheckpoint: (saved) => {
          checkpointIds.add(saved.id);
          const r = run();
          if (r.kind === 'running') setRun({ ...r, lastCheckpoint: saved.step });
          refreshCheckpoints();
        },
      });
      setControls(ctl);
      setPaused(false);
      ctl.done
        .then(
          (r) => {
            for (const id of r.checkpointIds) checkpointIds.add(id);
            setRun({ kind: 'finished', step: r.stoppedAtStep, checkpoints: checkpointIds.size });
          },
          (e) => {
            setError((e as Error).message);
            setRun({ kind: 'failed' });
          },
        )
        .finally(() => {
          setControls(null);
          setProgress(null);
          setStopping(false);
          refreshCheckpoints();
        });
    } catch (e) {
      setError((e as Error).message);
      setRun({ kind: 'failed' });
    }
  };
  const last = () => metrics()[metrics().length - 1];
  const status = () => {
    const r = run();
    if (r.kind === 'running') {
      const done = Math.max(r.startStep, last()?.step ?? 0);
      const saved = r.lastCheckpoint !== undefined ? ` · last checkpoint at step ${r.lastCheckpoint}` : '';
      if (stopping()) return `Stopping after this step (step ${done + 1} of ${r.total} finishes, then the adapter is saved)${saved}`;
      return paused() ? `Paused: holds before step ${done + 1} of ${r.total}${saved}` : `Training: step ${done + 1} of ${r.total} in progress${saved}`;
    }
    if (r.kind === 'finished') return `Finished at step ${r.step}; ${r.checkpoints} checkpoint(s) saved (see the Checkpoints tab).`;
    return null;
  };

  return (
    <div class="panel-grid">
      <section class="card" aria-labelledby="train-title">
        <h2 id="train-title">Train (LoRA + GRPO)</h2>
        <Show when={availability() && !available()}>
          <p class="alert" role="status" data-testid="trainer-missing">
            {(availability() as { reason: string }).reason}
          </p>
        </Show>
        <TrainResume list={checkpoints()} value={config().resumeFrom} onChange={(id) => update({ resumeFrom: id })} disabled={running()} />
        <fieldset>
          <legend>Scenario mix per cell (relative weights)</legend>
          <div class="mix">
            <For each={CELLS}>
              {(cell: Cell) => (
                <label>
                  {cell}
                  <input
                    type="number"
                    min="0"
                    step="0.5"
                    disabled={running()}
                    value={config().cellMix[cell]}
                    onChange={(e) => update({ cellMix: { ...config().cellMix, [cell]: Number(e.currentTarget.value) } })}
                  />
                </label>
              )}
            </For>
          </div>
        </fieldset>
        <div class="form">
          {num('groupSize', 'Group size G')}
          {num('learningRate', 'Learning rate', 'any')}
          {num('steps', { label: () => (resumeFrom() ? 'Steps (total to reach)' : 'Steps') })}
          {num('loraRank', {
            label: () => 'LoRA rank',
            disabled: () => !!resumeFrom(),
            value: () => resumeFrom()?.rank,
            describedBy: () => (resumeFrom() ? 'rank-note' : undefined),
          })}
          <Show when={resumeFrom()}>
            <small id="rank-note" data-testid="rank-note">
              The rank follows the checkpoint: a resumed run keeps its adapter.
            </small>
          </Show>
          {num('klBeta', 'KL β', 'any')}
          {num('seed', 'Seed')}
          {num('checkpointEvery', 'Checkpoint every N steps')}
          {num('maxNewTokens', 'Max new tokens per turn')}
        </div>
        <TrainMemory model={props.memoryModel?.() ?? null} loaded={!!model()} rank={effectiveConfig().loraRank} />
        <Show when={errors().length}>
          <ul class="error" role="alert" data-testid="train-config-errors">
            <For each={errors()}>{(e) => <li>{humanConfigError(e)}</li>}</For>
          </ul>
        </Show>
        <div class="buttons">
          <button class="primary" data-testid="train-start" disabled={!available() || running() || errors().length > 0} onClick={start}>
            Start
          </button>
          <button
            disabled={!running() || paused()}
            onClick={() => {
              controls()?.pause();
              setPaused(true);
            }}
          >
            Pause
          </button>
          <button
            disabled={!running() || !paused()}
            onClick={() => {
              controls()?.resume();
              setPaused(false);
            }}
          >
            Resume
          </button>
          <button
            data-testid="train-stop"
            disabled={!running() || stopping()}
            onClick={() => {
              controls()?.stop();
              setStopping(true);
            }}
          >
            Stop
          </button>
        </div>
        <Show when={status()}>
          <p role="status" data-testid="train-status">
            {status()}
          </p>
        </Show>
        <Show when={running() && progress()}>
          {(p) => (
            <p class="note" aria-live="polite" data-testid="train-phase">
              {phaseText(p())}
            </p>
          )}
        </Show>
        <NoSignalNotice metrics={metrics()} groupSize={config().groupSize} />
        <Show when={error()}>
          <p class="error" role="alert" data-testid="train-error">
            Training failed: {error()}
          </p>
        </Show>
        <Show when={last()}>
          {(m) => (
            <ProgressBar
              label="Training"
              value={m().step}
              max={m().totalSteps}
              detail={`step ${m().step} / ${m().totalSteps} · ETA ${formatDuration(etaSeconds(m().step, m().totalSteps, m().elapsedSeconds))}`}
            />
          )}
        </Show>
      </section>
      <Show when={metrics().length}>
        <section class="card wide" aria-label="Training charts">
          <Show when={resumedRange()}>
            {(r) => (
              <p class="note" data-testid="resumed-history">
                Steps {r()[0]}–{r()[1]} come from the resumed checkpoint's history.
              </p>
            )}
          </Show>
          <TrainingCharts metrics={metrics()} />
        </section>
      </Show>
      <Show when={samples().length}>
        <section class="card wide" aria-label="Sample trajectories">
          <h3>Sample trajectories</h3>
          <For each={samples()}>
            {(s) => (
              <details>
                <summary>
                  step {s.step} · {s.cell} · {s.scenarioId} · reward {s.reward.toFixed(2)} · advantage {s.advantage.toFixed(2)}
                </summary>
                <pre>{s.text}</pre>
              </details>
            )}
          </For>
        </section>
      </Show>
    </div>
  );
}
