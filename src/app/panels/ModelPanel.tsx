// Model tab: pick a model (hub with a configurable mirror, a local folder, or the built-in tiny
// model), a quantization, and load it in the worker with download and upload progress.
import { createEffect, createMemo, createResource, createSignal, For, Show, type JSX } from 'solid-js';
import { MODEL_REGISTRY } from '../../hf-io/registry';
import type { WeightFormat } from '../../engine/quant/formats';
import type { ModelChoice, WorkerEvent } from '../../worker-api/protocol';
import { ProgressBar } from '../components/ProgressBar';
import { etaSeconds, formatBytes, formatDuration, formatSpeed } from '../lib/format';
import { configFromDims, ENGINE_BATCH, estimateMemory, MODEL_DIMS } from '../lib/memory-estimate';
import { loadMirror, saveMirror, validateMirror } from '../lib/settings';
import { capabilities, engine, loadedModel, maxNewTokens, modelPick, setLoadedModel, setLoadedPick, setMaxNewTokens, setModelPick } from '../state';
import { CapabilityPanel } from './CapabilityPanel';
import { playgroundTrainingMemory } from '../../training/model/train-plan';
import { defaultTrainingConfig } from '../training-client';
import { NoWebGPU } from './NoWebGPU';
import { shellOffline } from '../../offline/register';
import { hubModelCacheStatus } from '../../offline/model-cache-status';
import type { Running } from '../engine-client';
import type { LoadResult } from '../../worker-api/protocol';
import { BUNDLED_MODELS, bundledModelFiles } from '../bundled-files';

const HUB = MODEL_REGISTRY.filter((m) => m.source === 'hub');
const TINY_ID = 'tiny-qwen3-random';
const LOCAL_ID = 'local-folder';
const QUANTS: WeightFormat[] = ['q4', 'q8', 'f16', 'f32'];

type DownloadEvent = Extract<WorkerEvent, { kind: 'download' }>;
type UploadEvent = Extract<WorkerEvent, { kind: 'upload' }>;

export function ModelPanel(): JSX.Element {
  const [modelId, setModelId] = createSignal(HUB[0]?.id ?? TINY_ID);
  const [quant, setQuant] = createSignal<WeightFormat>('q4');
  const [context, setContext] = createSignal(4096);
  const [mirror, setMirror] = createSignal(loadMirror());
  const [mirrorError, setMirrorError] = createSignal<string | null>(null);
  const [files, setFiles] = createSignal<File[]>([]);
  const [download, setDownload] = createSignal<DownloadEvent | null>(null);
  const [upload, setUpload] = createSignal<UploadEvent | null>(null);
  const [uploadStart, setUploadStart] = createSignal(0);
  /** Whether the latest q8/q4 weight came from the quantized-weight cache or was quantized now. */
  const [weightSource, setWeightSource] = createSignal<'from cache' | 'quantizing' | null>(null);
  const [running, setRunning] = createSignal<Running<LoadResult> | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  /** Settings the app changed on its own, said out loud (never silently). */
  const [notice, setNotice] = createSignal<string | null>(null);

  const f16 = () => capabilities()?.capabilities?.shaderF16 === true;
  const webgpu = () => capabilities()?.webgpu !== false;
  const estimate = createMemo(() => {
    const dims = MODEL_DIMS[modelId()];
    return dims ? estimateMemory(dims, quant(), context()) : null;
  });
  // What a GRPO run on this pick needs at the Train tab's default rank, before any run (issue #11 item 4).
  const trainingEstimate = createMemo(() => {
    const dims = MODEL_DIMS[modelId()];
    const rank = defaultTrainingConfig().loraRank;
    return dims
      ? { rank, total: playgroundTrainingMemory(configFromDims(dims), { format: quant(), maxContext: context(), maxBatch: ENGINE_BATCH }, rank).total }
      : null;
  });
  // The pick, for the Train tab's training-memory figure (the same size tables as the estimate).
  createEffect(() => {
    const dims = MODEL_DIMS[modelId()];
    setModelPick(dims ? { label: modelLabel(), config: configFromDims(dims), quant: quant(), context: context(), batch: ENGINE_BATCH } : null);
  });
  // Offline readiness, read again after each load: the app shell (service worker) and the chosen
  // hub model's files in the download cache.
  const hubEntry = () => HUB.find((m) => m.id === modelId());
  const [hubCached] = createResource(
    () => ({ entry: hubEntry(), mirror: mirror(), busy: !!running(), loaded: loadedModel() }),
    async ({ entry, mirror }) => (entry ? (await hubModelCacheStatus(entry, mirror).catch(() => ({ cached: false }))).cached : undefined),
  );
  const offlineLine = () => {
    const app = `app ${shellOffline() ? '✓' : '✗'}`;
    const entry = hubEntry();
    const bundled = BUNDLED_MODELS.find((m) => m.id === modelId());
    if (bundled) return `${app}, model ${bundled.label}: part of the app's files`;
    return entry && hubCached() !== undefined ? `${app}, model ${entry.label} ${hubCached() ? '✓' : '✗'}` : app;
  };
  const bundledEntry = () => BUNDLED_MODELS.find((m) => m.id === modelId());
  const modelLabel = () =>
    modelId() === TINY_ID
      ? 'built-in tiny model'
      : modelId() === LOCAL_ID
        ? 'local folder'
        : (MODEL_REGISTRY.find((m) => m.id === modelId())?.label ?? modelId());

  const commitMirror = (value: string) => {
    const v = validateMirror(value);
    if (!v.ok) {
      setMirrorError(v.error);
      return;
    }
    setMirrorError(null);
    setMirror(v.url);
    saveMirror(v.url);
  };

  const choice = (): ModelChoice => {
    const id = modelId();
    if (id === TINY_ID) return { kind: 'tiny', arch: 'qwen3' };
    if (id === LOCAL_ID) {
      if (!files().length) throw new Error('choose a model folder first (config.json, model.safetensors, tokenizer files)');
      return { kind: 'local', files: files() };
    }
    const bundled = BUNDLED_MODELS.find((m) => m.id === id);
    if (bundled) return { kind: 'bundled', registryId: bundled.id, label: bundled.label, files: bundledModelFiles(bundled) };
    const entry = HUB.find((m) => m.id === id);
    if (!entry || entry.source !== 'hub') throw new Error(`unknown model "${id}"`);
    return { kind: 'hub', registryId: entry.id, repo: entry.repo, revision: entry.revision, baseUrl: mirror() };
  };

  const load = async () => {
    setError(null);
    setDownload(null);
    setUpload(null);
    setWeightSource(null);
    setNotice(null);
    let run: Running<LoadResult>;
    try {
      run = engine().load({ model: choice(), quant: quant(), maxContext: context(), maxBatch: ENGINE_BATCH }, (e) => {
        if (e.kind === 'download') setDownload(e);
        if (e.kind === 'upload') {
          if (!upload()) setUploadStart(performance.now());
          setUpload(e);
          if (e.fromCache !== undefined) setWeightSource(e.fromCache ? 'from cache' : 'quantizing');
        }
      });
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    setRunning(run);
    const pick = modelPick();
    try {
      const result = await run.result;
      setLoadedPick(pick);
      setLoadedModel(result);
      if (modelId() === TINY_ID && maxNewTokens() > 32) {
        setNotice(
          `Max new tokens per turn changed from ${maxNewTokens()} to 16: the tiny model has random weights, so long turns only cost time. Set it back below if you want.`,
        );
        setMaxNewTokens(16);
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(null);
    }
  };

  const unload = async () => {
    await engine().unload();
    setLoadedModel(null);
  };

  const downloadDetail = () => {
    const d = download();
    if (!d) return '';
    const total = d.overallTotal !== undefined ? ` of ${formatBytes(d.overallTotal)}` : '';
    return `${d.file}${d.fromCache ? ' (from cache)' : ''} · ${formatBytes(d.overallLoaded)}${total} · ${formatSpeed(d.bytesPerSecond)} · ETA ${formatDuration(d.etaSeconds)}`;
  };
  const uploadDetail = () => {
    const u = upload();
    if (!u) return '';
    const eta = etaSeconds(u.done, u.total, (performance.now() - uploadStart()) / 1000);
    const source = weightSource() ? ` (${weightSource()})` : '';
    return `${u.done} / ${u.total} tensors · ${u.tensor} → ${u.format}${source} · ETA ${formatDuration(eta)}`;
  };

  return (
    <div class="panel-grid">
      <Show when={!webgpu()}>
        <NoWebGPU reason={capabilities()?.reason} />
      </Show>
      <section class="card" aria-labelledby="model-title">
        <h2 id="model-title">Model</h2>
        <div class="form">
          <label for="model-select">Model</label>
          <select id="model-select" data-testid="model-select" value={modelId()} onChange={(e) => setModelId(e.currentTarget.value)}>
            <For each={HUB}>{(m) => <option value={m.id}>{m.label} (Hugging Face hub)</option>}</For>
            <For each={BUNDLED_MODELS}>{(m) => <option value={m.id}>{m.label} — part of the app</option>}</For>
            <option value={LOCAL_ID}>Local folder…</option>
            <option value={TINY_ID}>Built-in tiny model: random weights — for offline smoke runs</option>
          </select>

          <Show when={HUB.some((m) => m.id === modelId())}>
            <label for="mirror">Hub mirror base URL</label>
            <input id="mirror" type="url" value={mirror()} onChange={(e) => commitMirror(e.currentTarget.value)} aria-describedby="mirror-help" />
            <small id="mirror-help">
              Files are fetched from <code>{mirror()}/&lt;repo&gt;/resolve/&lt;revision&gt;/</code> and cached in the browser.
            </small>
            <Show when={mirrorError()}>
              <p class="error" role="alert">
                {mirrorError()}
              </p>
            </Show>
          </Show>

          <Show when={modelId() === LOCAL_ID}>
            <label for="folder">Model folder</label>
            <input
              id="folder"
              type="file"
              {...{ webkitdirectory: true, directory: true }}
              multiple
              onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])}
            />
            <small>{files().length} files selected</small>
          </Show>

          <label for="quant">Weights</label>
          <select id="quant" data-testid="quant-select" value={quant()} onChange={(e) => setQuant(e.currentTarget.value as WeightFormat)}>
            <For each={QUANTS}>
              {(q) => (
                <option value={q} disabled={q === 'f16' && !f16()}>
                  {q}
                  {q === 'f16' && !f16() ? ' (needs shader-f16)' : ''}
                </option>
              )}
            </For>
          </select>

          <label for="context">Max context (tokens)</label>
          <input
            id="context"
            type="number"
            min="256"
            max="32768"
            step="256"
            value={context()}
            onChange={(e) => setContext(Math.max(256, Number(e.currentTarget.value) || 4096))}
          />

          <label for="max-new">Max new tokens per turn</label>
          <input
            id="max-new"
            data-testid="max-new-tokens"
            type="number"
            min="1"
            max="4096"
            value={maxNewTokens()}
            onChange={(e) => setMaxNewTokens(Math.max(1, Math.floor(Number(e.currentTarget.value)) || 1))}
          />
        </div>
        <Show when={hubEntry()}>
          {(m) => (
            <p class="note" data-testid="download-size">
              {hubCached()
                ? `${m().label} is in this browser's cache: loading needs no download.`
                : `Loading downloads about ${formatBytes(m().approxBf16Bytes)} once (bf16 weights), then keeps it in this browser's cache.`}
            </p>
          )}
        </Show>
        <Show when={bundledEntry()}>
          {(m) => (
            <p class="note" data-testid="bundled-note">
              {m().label} is part of the app's own files: loading needs no download and works offline. See {m().path}/README.md.
            </p>
          )}
        </Show>
        <div class="buttons">
          <button class="primary" data-testid="load-model" onClick={load} disabled={!!running() || !webgpu()}>
            Load model
          </button>
          <Show when={running()}>
            <button onClick={() => running()?.cancel()}>Cancel</button>
          </Show>
          <Show when={loadedModel() && !running()}>
            <button onClick={unload}>Unload</button>
          </Show>
        </div>
        <Show when={running() || download()}>
          <Show when={download()}>
            {(d) => <ProgressBar label="Download" value={d().overallLoaded} max={d().overallTotal ?? 0} detail={downloadDetail()} testId="download-progress" />}
          </Show>
        </Show>
        <Show when={upload()}>
          {(u) => <ProgressBar label="Upload and quantization" value={u().done} max={u().total} detail={uploadDetail()} testId="upload-progress" />}
        </Show>
        <p
          class="note"
          data-testid="offline-status"
          title="After a reload without network: the app needs its service worker (production builds over https or localhost), a hub model all its files in the browser cache"
        >
          Available offline: {offlineLine()}
        </p>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="model-error">
            {error()}
          </p>
        </Show>
        <Show when={notice()}>
          <p class="alert" role="status" data-testid="settings-notice">
            {notice()}
          </p>
        </Show>
        <Show when={loadedModel()}>
          {(m) => (
            <div class="loaded" data-testid="model-loaded">
              <h3>Loaded: {m().label}</h3>
              <p>
                {m().architecture} · {(m().params / 1e6).toFixed(1)} M parameters · {m().format} · context {m().maxContext} · {m().seconds.toFixed(1)} s
              </p>
              <p data-testid="loaded-memory">
                GPU memory (the engine's allocation): weights {formatBytes(m().memory.weights)}, KV cache {formatBytes(m().memory.kvCache)}, activations{' '}
                {formatBytes(m().memory.activations)}, total {formatBytes(m().memory.total)}
              </p>
            </div>
          )}
        </Show>
      </section>
      {/* One memory figure at a time: the estimate before loading, the engine's own figure after. */}
      <CapabilityPanel
        caps={capabilities()}
        estimate={loadedModel() ? null : estimate()}
        training={loadedModel() ? null : trainingEstimate()}
        estimateLabel={`${modelLabel()}, ${quant()}, ${context()} tokens × ${ENGINE_BATCH} sequences`}
      />
    </div>
  );
}
