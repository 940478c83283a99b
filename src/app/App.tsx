// The playground shell: header, keyboard-reachable tabs, the panels, and demo mode.
import { createSignal, For, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { StartHere } from './components/StartHere';
import { Tabs, type TabDef } from './components/Tabs';
import { AttackLab } from './panels/AttackLab';
import { checkpointsChanged, checkpointsVersion } from './adapter-list';
import { CheckpointsPanel } from './panels/CheckpointsPanel';
import { DemoMode } from './panels/DemoMode';
import { EvaluatePanel } from './panels/EvaluatePanel';
import { ModelPanel } from './panels/ModelPanel';
import { TrainPanel } from './panels/TrainPanel';
import { engine, loadedModel, loadedPick, modelPick, setCapabilities, setLoadedModel, type PlannedModel } from './state';
import { WorkerTrainingClient } from './training-client';

const TABS: TabDef[] = [
  { id: 'model', label: 'Model' },
  { id: 'lab', label: 'Attack Lab' },
  { id: 'train', label: 'Train' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'checkpoints', label: 'Checkpoints' },
];

export function App(): JSX.Element {
  const initialHash = location.hash;
  const [tab, setTab] = createSignal(initialHash.startsWith('#lab=') ? 'lab' : 'model');
  const [demo, setDemo] = createSignal(initialHash === '#demo');
  const [visited, setVisited] = createSignal(new Set([tab()]));
  const select = (id: string) => {
    setTab(id);
    setVisited(new Set([...visited(), id]));
  };

  const [deviceLost, setDeviceLost] = createSignal<string | null>(null);
  onMount(() => {
    // A link to #demo opens the demo on a page already open too.
    const onHash = () => {
      if (location.hash === '#demo') setDemo(true);
    };
    window.addEventListener('hashchange', onHash);
    onCleanup(() => window.removeEventListener('hashchange', onHash));
    // The worker forgets the model when the GPU device is lost; the UI must too.
    engine().onEvent((e) => {
      if (e.kind === 'device-lost') {
        setLoadedModel(null);
        setDeviceLost(`${e.message} (${e.reason}). Load the model again.`);
      }
    });
    engine()
      .capabilities()
      .then(setCapabilities, (e) => setCapabilities({ webgpu: false, reason: (e as Error).message }));
  });

  // The Train tab's memory figure: the loaded model (at the context the worker gave it), else the Model tab's pick.
  const trainingMemoryModel = (): PlannedModel | null => {
    const m = loadedModel();
    if (!m) return modelPick();
    const p = loadedPick();
    return p ? { ...p, context: m.maxContext } : null;
  };
  const panels: Record<string, () => JSX.Element> = {
    model: () => <ModelPanel />,
    lab: () => <AttackLab initialHash={initialHash} />,
    train: () => (
      <TrainPanel
        client={new WorkerTrainingClient(engine())}
        modelLoaded={loadedModel}
        memoryModel={trainingMemoryModel}
        checkpointsVersion={checkpointsVersion}
        onCheckpointsChanged={checkpointsChanged}
      />
    ),
    evaluate: () => <EvaluatePanel />,
    checkpoints: () => <CheckpointsPanel />,
  };

  return (
    <>
      <Show when={!demo()}>
        <main>
          <header class="app-head">
            <div>
              <h1>Agent Safety Playground</h1>
              <p>Try prompt-injection attacks on a Qwen agent, and train it to execute, refuse and verify, all on your own GPU.</p>
            </div>
            <div class="head-side">
              <span class="model-chip" data-testid="model-chip">
                {loadedModel() ? `Model: ${loadedModel()!.label}` : 'No model loaded'}
              </span>
              <button data-testid="open-demo" onClick={() => setDemo(true)}>
                Demo mode
              </button>
            </div>
          </header>
          <Show when={deviceLost()}>
            <p class="alert" role="alert">
              The GPU device was lost: {deviceLost()}
            </p>
          </Show>
          <StartHere onOpen={select} onDemo={() => setDemo(true)} />
          <Tabs tabs={TABS} selected={tab()} onSelect={select} label="Playground sections" />
          <For each={TABS}>
            {(t) => (
              <div role="tabpanel" id={`panel-${t.id}`} aria-labelledby={`tab-${t.id}`} hidden={tab() !== t.id} data-testid={`panel-${t.id}`}>
                {/* Panels mount on first visit and stay mounted, so switching tabs keeps their state. */}
                <Show when={visited().has(t.id)}>{panels[t.id]()}</Show>
              </div>
            )}
          </For>
        </main>
      </Show>
      <Show when={demo()}>
        <DemoMode
          onExit={() => {
            setDemo(false);
            if (location.hash === '#demo') history.replaceState(null, '', location.pathname);
          }}
        />
      </Show>
    </>
  );
}
