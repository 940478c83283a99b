// Evaluate: run a policy over a split or an imported suite, with progress; the results browser
// (EvalResults) compares any number of runs per cell with intervals, drills into episodes, and
// exports each run with its metadata.
import { createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import { type EpisodeResult, type Scenario } from '../../sandbox/index';
import { EvalResults } from '../components/EvalResults';
import { ProgressBar } from '../components/ProgressBar';
import { runLabel, type EvalRun, type RunMeta } from '../lib/eval-export';
import { runEvalInSlices, type EvalProgress } from '../lib/eval-runner';
import { etaSeconds, formatDuration } from '../lib/format';
import { createAdapterList } from '../adapter-list';
import { PolicySelect } from '../components/PolicySelect';
import { builtinSplit, importSuiteSources, readSourceFiles, samplePerCell, type ImportedSuite } from '../lib/suites';
import { makePolicy, policyTag, type PolicyPick } from '../policy-factory';
import { engine, loadedModel, maxNewTokens } from '../state';

export function EvaluatePanel(): JSX.Element {
  const [source, setSource] = createSignal<'test' | 'train' | 'imported'>('test');
  const [perCell, setPerCell] = createSignal(10);
  const [imported, setImported] = createSignal<ImportedSuite | null>(null);
  const [importError, setImportError] = createSignal<string | null>(null);
  const [policy, setPolicy] = createSignal<PolicyPick>({ name: 'oracle' });
  const adapters = createAdapterList();
  const [maxTurns, setMaxTurns] = createSignal(6);
  const [progress, setProgress] = createSignal<EvalProgress | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [runs, setRuns] = createSignal<EvalRun[]>([]);
  const [error, setError] = createSignal<string | null>(null);
  let controller: AbortController | undefined;

  const scenarios = createMemo((): Scenario[] => {
    const s = source();
    const all = s === 'imported' ? (imported()?.scenarios ?? []) : builtinSplit(s);
    return perCell() > 0 ? samplePerCell(all, perCell()) : all;
  });
  const suiteName = () => (source() === 'imported' ? (imported()?.name ?? 'imported') : `builtin-${source()}`);

  // Import handler (helper C): one suite file, or a benchmark's released files / folder (importSuiteSources).
  const onFiles = async (list: FileList | null | undefined) => {
    setImportError(null);
    if (!list?.length) return;
    try {
      setImported(importSuiteSources(await readSourceFiles(list)));
      setSource('imported');
    } catch (e) {
      setImported(null);
      setImportError((e as Error).message);
    }
  };

  const run = async () => {
    if (policy().name === 'model' && !loadedModel()) {
      setError('Load a model in the Model tab first, or pick a scripted policy.');
      return;
    }
    const list = scenarios();
    if (!list.length) {
      setError('No scenarios to run: import a suite or pick a split.');
      return;
    }
    setError(null);
    setBusy(true);
    setProgress({ done: 0, total: list.length, elapsedSeconds: 0 });
    controller = new AbortController();
    try {
      const p = makePolicy(policy(), engine(), { maxNewTokens: maxNewTokens(), sampling: { greedy: true } });
      const t0 = performance.now();
      const episodes: EpisodeResult[] = [],
        ran: Scenario[] = [];
      const out = await runEvalInSlices(list, p, {
        maxTurns: maxTurns(),
        signal: controller.signal,
        onProgress: setProgress,
        onEpisode: (r, s) => {
          episodes.push(r);
          ran.push(s);
        },
      });
      const pick = policy(),
        usesModel = pick.name === 'model',
        model = loadedModel();
      const meta: RunMeta = {
        policy: pick.name,
        model: usesModel ? (model?.label ?? null) : null,
        quantization: usesModel ? (model?.format ?? null) : null,
        adapter: pick.adapter?.label ?? null,
        maxTurns: maxTurns(),
        seed: usesModel ? 'greedy decoding' : 'scripted',
        verifier: "scenario's owner (automatic)",
        suite: suiteName(),
        n: out.summaries.length,
        date: new Date().toISOString(),
      };
      const label = runLabel(runs().length + 1, meta, out.aborted);
      setRuns([
        ...runs(),
        {
          label,
          policy: policyTag(pick),
          suite: suiteName(),
          report: out.report,
          summaries: out.summaries,
          errors: out.errors,
          seconds: (performance.now() - t0) / 1000,
          meta,
          episodes,
          scenarios: ran,
        },
      ]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const eta = () => {
    const p = progress();
    return p ? etaSeconds(p.done, p.total, p.elapsedSeconds) : undefined;
  };

  return (
    <div class="eval-layout">
      <section class="card eval-settings" aria-labelledby="eval-title">
        <h2 id="eval-title">Evaluate</h2>
        <div class="form">
          <label for="eval-source">Scenarios</label>
          <select
            id="eval-source"
            data-testid="eval-source"
            value={source()}
            onChange={(e) => setSource(e.currentTarget.value as 'test' | 'train' | 'imported')}
          >
            <option value="test">built-in test split</option>
            <option value="train">built-in train split</option>
            <option value="imported" disabled={!imported()}>
              imported: {imported()?.name ?? '(none yet)'}
            </option>
          </select>
          <label for="eval-file">Import a suite (our JSON, InjecAgent test cases, or a benchmark's files: BFCL, ASB, AgentDojo)</label>
          <input
            id="eval-file"
            data-testid="eval-file"
            type="file"
            multiple
            accept=".json,.jsonl,.yaml,.yml,application/json"
            onChange={(e) => void onFiles(e.currentTarget.files)}
          />
          <label for="eval-folder">or a benchmark's folder</label>
          <input id="eval-folder" data-testid="eval-folder" type="file" {...{ webkitdirectory: true }} onChange={(e) => void onFiles(e.currentTarget.files)} />
          <label for="per-cell">Scenarios per cell (0 = all)</label>
          <input
            id="per-cell"
            data-testid="per-cell"
            type="number"
            min="0"
            value={perCell()}
            onChange={(e) => setPerCell(Math.max(0, Math.floor(Number(e.currentTarget.value)) || 0))}
          />
          <label for="eval-policy">Policy</label>
          <PolicySelect id="eval-policy" testId="eval-policy" label="Policy" value={policy()} onChange={setPolicy} adapters={adapters.list()} />
          <label for="eval-turns">Max turns</label>
          <input
            id="eval-turns"
            type="number"
            min="1"
            max="16"
            value={maxTurns()}
            onChange={(e) => setMaxTurns(Math.min(16, Math.max(1, Math.floor(Number(e.currentTarget.value)) || 1)))}
          />
        </div>
        <Show when={importError()}>
          <p class="error" role="alert" data-testid="import-error">
            {importError()}
          </p>
        </Show>
        <p class="note">{scenarios().length} scenarios selected.</p>
        <div class="buttons">
          <button class="primary" data-testid="eval-run" onClick={run} disabled={busy()}>
            Run evaluation
          </button>
          <Show when={busy()}>
            <button onClick={() => controller?.abort()}>Stop</button>
          </Show>
        </div>
        <Show when={progress()}>
          {(p) => (
            <ProgressBar
              label="Evaluation"
              value={p().done}
              max={p().total}
              detail={`${p().done} / ${p().total} episodes · ${formatDuration(p().elapsedSeconds)} elapsed · ETA ${formatDuration(eta())}`}
              testId="eval-progress"
            />
          )}
        </Show>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
      </section>

      <Show when={runs().length}>
        <section class="card wide" aria-labelledby="results-title" data-testid="eval-results">
          <h2 id="results-title">Results</h2>
          <EvalResults runs={runs()} />
          <For each={runs().filter((r) => r.errors.length)}>
            {(r) => (
              <details>
                <summary>
                  {r.label}: {r.errors.length} policy errors
                </summary>
                <ul>
                  <For each={r.errors}>{(e) => <li>{e}</li>}</For>
                </ul>
              </details>
            )}
          </For>
        </section>
      </Show>
    </div>
  );
}
