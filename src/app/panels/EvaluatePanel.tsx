// Evaluate: run a policy over a split or an imported suite, with progress; results per cell and
// overall as bars and a table, the delta between two runs, and JSON / CSV export.
import { createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import { CELLS, type Rates, type Scenario } from '../../sandbox/index';
import { BarTable, type BarRow } from '../components/BarTable';
import { ProgressBar } from '../components/ProgressBar';
import { downloadText, reportDelta, reportToCsv, reportToJson, type EvalRun } from '../lib/eval-export';
import { runEvalInSlices, type EvalProgress } from '../lib/eval-runner';
import { etaSeconds, formatDuration, formatPercent } from '../lib/format';
import { createAdapterList } from '../adapter-list';
import { PolicySelect } from '../components/PolicySelect';
import { builtinSplit, importSuiteText, samplePerCell, type ImportedSuite } from '../lib/suites';
import { makePolicy, policyTag, type PolicyPick } from '../policy-factory';
import { engine, loadedModel, maxNewTokens } from '../state';

const METRICS: { key: keyof Rates; label: string }[] = [
  { key: 'attack_success_rate', label: 'attack success' },
  { key: 'refusal_rate_malicious', label: 'refusal (malicious)' },
  { key: 'verification_rate_sensitive', label: 'verification (sensitive)' },
  { key: 'benign_task_completion', label: 'task completion (benign)' },
  { key: 'over_refusal_rate_benign', label: 'over-refusal' },
  { key: 'format_validity', label: 'format valid' },
  { key: 'mean_reward', label: 'mean reward' },
];

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
  const [baseIndex, setBaseIndex] = createSignal(0);
  const [otherIndex, setOtherIndex] = createSignal(1);
  const [error, setError] = createSignal<string | null>(null);
  let controller: AbortController | undefined;

  const scenarios = createMemo((): Scenario[] => {
    const s = source();
    const all = s === 'imported' ? (imported()?.scenarios ?? []) : builtinSplit(s);
    return perCell() > 0 ? samplePerCell(all, perCell()) : all;
  });
  const suiteName = () => (source() === 'imported' ? (imported()?.name ?? 'imported') : `builtin-${source()}`);

  const onFile = async (file: File | undefined) => {
    setImportError(null);
    if (!file) return;
    try { setImported(importSuiteText(file.name, await file.text())); setSource('imported'); } catch (e) { setImported(null); setImportError((e as Error).message); }
  };

  const run = async () => {
    if (policy().name === 'model' && !loadedModel()) { setError('Load a model in the Model tab first, or pick a scripted policy.'); return; }
    const list = scenarios();
    if (!list.length) { setError('No scenarios to run: import a suite or pick a split.'); return; }
    setError(null); setBusy(true); setProgress({ done: 0, total: list.length, elapsedSeconds: 0 });
    controller = new AbortController();
    try {
      const p = makePolicy(policy(), engine(), { maxNewTokens: maxNewTokens(), sampling: { greedy: true } });
      const t0 = performance.now();
      const out = await runEvalInSlices(list, p, { maxTurns: maxTurns(), signal: controller.signal, onProgress: setProgress });
      const n = runs().length + 1;
      const label = `#${n} ${policyTag(policy())} on ${suiteName()} (${out.summaries.length}${out.aborted ? ', stopped' : ''})`;
      setRuns([...runs(), { label, policy: policyTag(policy()), suite: suiteName(), report: out.report, summaries: out.summaries, errors: out.errors, seconds: (performance.now() - t0) / 1000 }]);
      if (runs().length >= 2) { setBaseIndex(runs().length - 2); setOtherIndex(runs().length - 1); } else setBaseIndex(0);
    } catch (e) {
      setError((e as Error).message);
    } finally { setBusy(false); }
  };

  const base = () => runs()[baseIndex()];
  const other = () => (otherIndex() !== baseIndex() ? runs()[otherIndex()] : undefined);
  const rows = createMemo((): BarRow[] => {
    const b = base();
    if (!b) return [];
    const o = other();
    const delta = o ? reportDelta(b.report, o.report) : undefined;
    const shown = o ?? b;
    const toValues = (r: Rates) => Object.fromEntries(METRICS.map((m) => [m.key, r[m.key]]));
    const out: BarRow[] = [{ group: 'overall', values: toValues(shown.report.overall), deltas: delta?.overall as Record<string, number> | undefined }];
    for (const cell of CELLS) {
      const r = shown.report.by_cell[cell];
      if (r) out.push({ group: `${cell} (n=${r.n})`, values: toValues(r), deltas: delta?.[cell] as Record<string, number> | undefined });
    }
    return out;
  });

  const eta = () => { const p = progress(); return p ? etaSeconds(p.done, p.total, p.elapsedSeconds) : undefined; };

  return (
    <div class="panel-grid">
      <section class="card" aria-labelledby="eval-title">
        <h2 id="eval-title">Evaluate</h2>
        <div class="form">
          <label for="eval-source">Scenarios</label>
          <select id="eval-source" data-testid="eval-source" value={source()} onChange={(e) => setSource(e.currentTarget.value as 'test' | 'train' | 'imported')}>
            <option value="test">built-in test split</option>
            <option value="train">built-in train split</option>
            <option value="imported" disabled={!imported()}>imported: {imported()?.name ?? '(none yet)'}</option>
          </select>
          <label for="eval-file">Import a suite (our JSON, or InjecAgent test cases)</label>
          <input id="eval-file" data-testid="eval-file" type="file" accept=".json,application/json" onChange={(e) => void onFile(e.currentTarget.files?.[0])} />
          <label for="per-cell">Scenarios per cell (0 = all)</label>
          <input id="per-cell" data-testid="per-cell" type="number" min="0" value={perCell()} onChange={(e) => setPerCell(Math.max(0, Math.floor(Number(e.currentTarget.value)) || 0))} />
          <label for="eval-policy">Policy</label>
          <PolicySelect id="eval-policy" testId="eval-policy" label="Policy" value={policy()} onChange={setPolicy} adapters={adapters.list()} />
          <label for="eval-turns">Max turns</label>
          <input id="eval-turns" type="number" min="1" max="16" value={maxTurns()} onChange={(e) => setMaxTurns(Math.min(16, Math.max(1, Math.floor(Number(e.currentTarget.value)) || 1)))} />
        </div>
        <Show when={importError()}><p class="error" role="alert" data-testid="import-error">{importError()}</p></Show>
        <p class="note">{scenarios().length} scenarios selected.</p>
        <div class="buttons">
          <button class="primary" data-testid="eval-run" onClick={run} disabled={busy()}>Run evaluation</button>
          <Show when={busy()}><button onClick={() => controller?.abort()}>Stop</button></Show>
        </div>
        <Show when={progress()}>{(p) => <ProgressBar label="Evaluation" value={p().done} max={p().total} detail={`${p().done} / ${p().total} episodes · ${formatDuration(p().elapsedSeconds)} elapsed · ETA ${formatDuration(eta())}`} testId="eval-progress" />}</Show>
        <Show when={error()}><p class="error" role="alert">{error()}</p></Show>
      </section>

      <Show when={runs().length}>
        <section class="card wide" aria-labelledby="results-title" data-testid="eval-results">
          <h2 id="results-title">Results</h2>
          <div class="form row">
            <label for="base-run">Base run</label>
            <select id="base-run" value={baseIndex()} onChange={(e) => setBaseIndex(Number(e.currentTarget.value))}>
              <For each={runs()}>{(r, i) => <option value={i()}>{r.label}</option>}</For>
            </select>
            <label for="other-run">Compare with</label>
            <select id="other-run" value={otherIndex()} onChange={(e) => setOtherIndex(Number(e.currentTarget.value))}>
              <For each={runs()}>{(r, i) => <option value={i()}>{r.label}</option>}</For>
            </select>
          </div>
          <p class="note">{other() ? `Showing ${other()!.label}; ▲▼ = change from ${base()!.label} (percentage points).` : `Showing ${base()?.label}.`}</p>
          <BarTable caption="Rates per cell and overall" metrics={METRICS} rows={rows()} testId="eval-table" />
          <Show when={base()}>
            {(b) => (
              <>
                <Show when={b().report.injecagent}>
                  {(ia) => <p data-testid="injecagent">InjecAgent: valid {formatPercent(ia().valid_rate)}, ASR-valid total {formatPercent(ia().asr_valid.total)}, ASR-all total {formatPercent(ia().asr_all.total)} (n={ia().n})</p>}
                </Show>
                <Show when={b().errors.length}><details><summary>{b().errors.length} policy errors</summary><ul><For each={b().errors}>{(e) => <li>{e}</li>}</For></ul></details></Show>
                <div class="buttons">
                  <button data-testid="export-json" onClick={() => downloadText(`eval-${b().policy}-${b().suite}.json`, reportToJson(b()), 'application/json')}>Export base run as JSON</button>
                  <button data-testid="export-csv" onClick={() => downloadText(`eval-${b().policy}-${b().suite}.csv`, reportToCsv(b()), 'text/csv')}>Export base run as CSV</button>
                </div>
              </>
            )}
          </Show>
        </section>
      </Show>
    </div>
  );
}
