import { createResource, Show, For } from 'solid-js';
import { EngineClient } from './engine-client';

const engine = new EngineClient();

export function App() {
  const [caps] = createResource(() => engine.capabilities());
  return (
    <main>
      <header>
        <h1>Agent Safety Playground</h1>
        <p>Try prompt-injection attacks on a Qwen agent, and train it to execute, refuse and verify, all on your own GPU.</p>
      </header>
      <section aria-labelledby="caps-title" data-testid="capabilities">
        <h2 id="caps-title">WebGPU</h2>
        <Show when={caps()} fallback={<p>Checking WebGPU…</p>}>
          {(c) => (
            <Show
              when={c().webgpu && c().capabilities}
              fallback={
                <div role="alert" data-testid="no-webgpu">
                  <p>WebGPU is not available: {c().reason}</p>
                  <p>Use Chrome or Edge 113 or newer on a machine with a supported GPU, and make sure hardware acceleration is on.</p>
                </div>
              }
            >
              {(cap) => (
                <dl>
                  <dt>Adapter</dt>
                  <dd data-testid="adapter">{[cap().adapter.vendor, cap().adapter.architecture, cap().adapter.description].filter(Boolean).join(' · ') || 'unnamed adapter'}</dd>
                  <dt>shader-f16</dt>
                  <dd data-testid="f16">{cap().shaderF16 ? 'yes (f16 path)' : 'no (f32 path)'}</dd>
                  <dt>Max storage buffer</dt>
                  <dd>{(cap().limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB</dd>
                  <dt>Self-test in worker</dt>
                  <dd data-testid="selftest">{cap().selfTest.ok ? 'passed' : 'FAILED'}: {cap().selfTest.detail}</dd>
                  <dt>Features</dt>
                  <dd>
                    <For each={cap().features}>{(f) => <code>{f} </code>}</For>
                  </dd>
                </dl>
              )}
            </Show>
          )}
        </Show>
      </section>
    </main>
  );
}
