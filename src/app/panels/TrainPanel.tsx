// Train: the GRPO configuration, controls, live charts, progress and sample trajectories, all
// driven by a TrainingClient (the GRPO trainer in the engine worker). Without a loaded model Start
// is disabled and the tab says why: no metrics are ever invented here.
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { CELLS, type Cell } from '../../sandbox/index';
import { ProgressBar } from '../components/ProgressBar';
import { etaSeconds, formatDuration } from '../lib/format';
import { defaultTrainingConfig, validateTrainingConfig, type TrainingClient, type TrainingConfig, type TrainingControls, type TrainingMetrics, type TrainingSample } from '../training-client';
import { TrainingCharts } from './TrainingCharts';

export function TrainPanel(props: { client: TrainingClient; modelLoaded?: () => unknown }): JSX.Element {
  // Re-asked whenever the loaded model changes: training needs a model in the worker.
  const [availability] = createResource(() => props.modelLoaded?.() ?? true, () => props.client.availability().catch((e) => ({ available: false as const, reason: (e as Error).message })));
  const [config, setConfig] = createSignal<TrainingConfig>(defaultTrainingConfig());
  const [metrics, setMetrics] = createSignal<TrainingMetrics[]>([]);
  const [samples, setSamples] = createSignal<TrainingSample[]>([]);
  const [controls, setControls] = createSignal<TrainingControls | null>(null);
  const [paused, setPaused] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const errors = () => validateTrainingConfig(config());
  const available = () => availability()?.available === true;
  const num = (key: keyof Omit<TrainingConfig, 'cellMix'>, label: string, step = '1') => (
    <>
      <label for={`cfg-${key}`}>{label}</label>
      <input id={`cfg-${key}`} type="number" step={step} value={config()[key]} onChange={(e) => setConfig({ ...config(), [key]: Number(e.currentTarget.value) })} />
    </>
  );

  const start = () => {
    setError(null); setMetrics([]); setSamples([]);
    try {
      const c = props.client.start(config(), (m) => setMetrics([...metrics(), m]), (s) => setSamples([s, ...samples()].slice(0, 20)));
      setControls(c); setPaused(false);
      c.done.catch((e) => setError((e as Error).message)).finally(() => setControls(null));
    } catch (e) { setError((e as Error).message); }
  };
  const last = () => metrics()[metrics().length - 1];

  return (
    <div class="panel-grid">
      <section class="card" aria-labelledby="train-title">
        <h2 id="train-title">Train (LoRA + GRPO)</h2>
        <Show when={availability() && !available()}>
          <p class="alert" role="status" data-testid="trainer-missing">{(availability() as { reason: string }).reason}</p>
        </Show>
        <fieldset>
          <legend>Scenario mix per cell (relative weights)</legend>
          <div class="mix">
            <For each={CELLS}>
              {(cell: Cell) => (
                <label>{cell}
                  <input type="number" min="0" step="0.5" value={config().cellMix[cell]} onChange={(e) => setConfig({ ...config(), cellMix: { ...config().cellMix, [cell]: Number(e.currentTarget.value) } })} />
                </label>
              )}
            </For>
          </div>
        </fieldset>
        <div class="form">
          {num('groupSize', 'Group size G')}
          {num('learningRate', 'Learning rate', 'any')}
          {num('steps', 'Steps')}
          {num('loraRank', 'LoRA rank')}
          {num('klBeta', 'KL β', 'any')}
          {num('seed', 'Seed')}
          {num('checkpointEvery', 'Checkpoint every N steps')}
          {num('maxNewTokens', 'Max new tokens per turn')}
        </div>
        <Show when={errors().length}><ul class="error" role="alert"><For each={errors()}>{(e) => <li>{e}</li>}</For></ul></Show>
        <div class="buttons">
          <button class="primary" data-testid="train-start" disabled={!available() || !!controls() || errors().length > 0} onClick={start}>Start</button>
          <button disabled={!controls() || paused()} onClick={() => { controls()?.pause(); setPaused(true); }}>Pause</button>
          <button disabled={!controls() || !paused()} onClick={() => { controls()?.resume(); setPaused(false); }}>Resume</button>
          <button disabled={!controls()} onClick={() => controls()?.stop()}>Stop</button>
        </div>
        <Show when={error()}><p class="error" role="alert">{error()}</p></Show>
        <Show when={last()}>
          {(m) => <ProgressBar label="Training" value={m().step} max={m().totalSteps} detail={`step ${m().step} / ${m().totalSteps} · ETA ${formatDuration(etaSeconds(m().step, m().totalSteps, m().elapsedSeconds))}`} />}
        </Show>
      </section>
      <Show when={metrics().length}>
        <section class="card wide" aria-label="Training charts"><TrainingCharts metrics={metrics()} /></section>
      </Show>
      <Show when={samples().length}>
        <section class="card wide" aria-label="Sample trajectories">
          <h3>Sample trajectories</h3>
          <For each={samples()}>{(s) => <details><summary>step {s.step} · {s.cell} · {s.scenarioId} · reward {s.reward.toFixed(2)} · advantage {s.advantage.toFixed(2)}</summary><pre>{s.text}</pre></details>}</For>
        </section>
      </Show>
    </div>
  );
}
