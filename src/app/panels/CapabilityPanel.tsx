// What the GPU in the worker can do, and the estimated memory of the chosen model.
import { For, Show, type JSX } from 'solid-js';
import type { CapabilitiesResult } from '../../worker-api/protocol';
import { formatBytes } from '../lib/format';
import type { MemoryEstimate } from '../lib/memory-estimate';

export function CapabilityPanel(props: {
  caps: CapabilitiesResult | null;
  estimate: MemoryEstimate | null;
  estimateLabel: string;
  /** GPU memory of a GRPO run on this pick at the Train tab's defaults (the training size table). */
  training?: { total: number; rank: number } | null;
}): JSX.Element {
  return (
    <section aria-labelledby="caps-title" data-testid="capabilities" class="card">
      <h2 id="caps-title">WebGPU</h2>
      <Show when={props.caps} fallback={<p>Checking WebGPU…</p>}>
        {(c) => (
          <Show when={c().webgpu && c().capabilities} fallback={<p>WebGPU is not available: {c().reason}</p>}>
            {(cap) => (
              <dl class="kv">
                <dt>Adapter</dt>
                <dd data-testid="adapter">
                  {[cap().adapter.vendor, cap().adapter.architecture, cap().adapter.description].filter(Boolean).join(' · ') || 'unnamed adapter'}
                  {cap().isSoftware ? ' (software renderer: slow)' : ''}
                </dd>
                <dt>shader-f16</dt>
                <dd data-testid="f16">{cap().shaderF16 ? 'yes (f16 path)' : 'no (f32 path)'}</dd>
                <dt>Max buffer</dt>
                <dd>{formatBytes(cap().limits.maxBufferSize)}</dd>
                <dt>Max storage binding</dt>
                <dd>{formatBytes(cap().limits.maxStorageBufferBindingSize)}</dd>
                <dt>Workgroup storage</dt>
                <dd>
                  {formatBytes(cap().limits.maxComputeWorkgroupStorageSize)}, {cap().limits.maxComputeInvocationsPerWorkgroup} invocations
                </dd>
                <dt>Self-test in worker</dt>
                <dd data-testid="selftest">
                  {cap().selfTest.ok ? 'passed' : 'FAILED'}: {cap().selfTest.detail}
                </dd>
                <dt>Features</dt>
                <dd class="features">
                  <For each={cap().features}>{(f) => <code>{f} </code>}</For>
                </dd>
                <dt>Speed</dt>
                <dd>
                  <a href="./bench.html" target="_blank" rel="noopener" data-testid="bench-link">
                    Benchmark this GPU
                  </a>{' '}
                  (opens a page that measures tokens/s)
                </dd>
              </dl>
            )}
          </Show>
        )}
      </Show>
      <Show when={props.estimate}>
        {(e) => (
          <div data-testid="memory-estimate">
            <h3>Estimated GPU memory: {props.estimateLabel}</h3>
            <dl class="kv">
              <dt>Weights</dt>
              <dd>{formatBytes(e().weights)}</dd>
              <dt>KV cache</dt>
              <dd>{formatBytes(e().kvCache)}</dd>
              <dt>Activations (approx.)</dt>
              <dd>{formatBytes(e().activations)}</dd>
              <dt>Total</dt>
              <dd>
                <strong>{formatBytes(e().total)}</strong>
              </dd>
              <Show when={props.training}>
                {(t) => (
                  <>
                    <dt>Training (GRPO, LoRA r{t().rank})</dt>
                    <dd data-testid="memory-estimate-training">{formatBytes(t().total)}</dd>
                  </>
                )}
              </Show>
            </dl>
          </div>
        )}
      </Show>
    </section>
  );
}
