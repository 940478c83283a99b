// The first thing a new visitor sees: what works right away without a model (scripted policies
// in the Attack Lab, Evaluate and the demo), and what a real model costs to download and where it
// is kept. Dismissed once, it stays closed (localStorage).
import { createSignal, Show, type JSX } from 'solid-js';
import { MODEL_REGISTRY } from '../../hf-io/registry';
import { formatBytes } from '../lib/format';

const KEY = 'agent-safety-playground.start-here-dismissed';

export function StartHere(props: { onOpen: (tab: string) => void; onDemo: () => void }): JSX.Element {
  const [open, setOpen] = createSignal(localStorage.getItem(KEY) !== '1');
  const first = MODEL_REGISTRY.find((m) => m.source === 'hub');
  const close = () => {
    localStorage.setItem(KEY, '1');
    setOpen(false);
  };
  return (
    <Show when={open()}>
      <section class="card start-here" aria-labelledby="start-title" data-testid="start-here">
        <h2 id="start-title">Start here</h2>
        <p>
          <strong>No model needed to begin:</strong> the Attack Lab, Evaluate and the demo run with scripted policies (comply follows any instruction, refuse
          always refuses, oracle does the labelled right thing). Nothing is downloaded.
        </p>
        <div class="buttons">
          <button class="primary" data-testid="start-lab" onClick={() => props.onOpen('lab')}>
            Try an injection in the Attack Lab
          </button>
          <button data-testid="start-demo" onClick={props.onDemo}>
            Play the demo
          </button>
          <button data-testid="start-evaluate" onClick={() => props.onOpen('evaluate')}>
            Evaluate the scripted policies
          </button>
        </div>
        <Show when={first}>
          {(m) => (
            <p class="note" data-testid="start-download">
              A real agent: in the Model tab, {m().label} downloads about {formatBytes(m().approxBf16Bytes)} once (bf16 weights from the Hugging Face hub or
              your mirror), kept in this browser's cache (Cache Storage; quantized weights in IndexedDB), so later loads and offline demos skip the download.
              The built-in tiny model (random weights) loads with no download, for trying the pipeline.
            </p>
          )}
        </Show>
        <button class="small" data-testid="start-dismiss" onClick={close}>
          Got it, hide this
        </button>
      </section>
    </Show>
  );
}
