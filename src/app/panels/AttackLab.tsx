// Attack Lab: pick or write a scenario, edit or inject tool outputs, and run it on two policies
// side by side. The state can be shared as a URL; loading one only fills the form.
import { createMemo, createSignal, Show, type JSX } from 'solid-js';
import { createAdapterList } from '../adapter-list';
import { EpisodeColumn, type VerifierMode } from '../components/EpisodeColumn';
import type { PolicyPick } from '../policy-factory';
import { applyEdits, NO_EDITS, type ScenarioEdits } from '../lib/scenario-edit';
import { decodeLabHash, encodeLabHash, type PolicyName } from '../lib/share-hash';
import { builtinSplit, importSuiteText } from '../lib/suites';
import { loadedModel } from '../state';
import type { Scenario } from '../../sandbox/index';
import { ScenarioEditor } from './ScenarioEditor';
import { ScenarioPicker, type PickerState } from './ScenarioPicker';

export function AttackLab(props: { initialHash: string }): JSX.Element {
  const [picker, setPicker] = createSignal<PickerState>({ split: 'test', cell: 'BU-MT', domain: '', id: '' });
  const [edits, setEdits] = createSignal<ScenarioEdits>(NO_EDITS);
  const [policies, setPolicies] = createSignal<[PolicyPick, PolicyPick]>([{ name: 'comply' }, { name: 'oracle' }]);
  const adapters = createAdapterList();
  const [verifier, setVerifier] = createSignal<VerifierMode>('human');
  const [maxTurns, setMaxTurns] = createSignal(6);
  const [shareUrl, setShareUrl] = createSignal('');
  const [hashError, setHashError] = createSignal<string | null>(null);
  const [sharedModel, setSharedModel] = createSignal<string | null>(null);
  const [copied, setCopied] = createSignal('');
  const [imported, setImported] = createSignal<Scenario[] | null>(null);
  const [importError, setImportError] = createSignal<string | null>(null);
  const listFor = (split: PickerState['split']) => (split === 'imported' ? (imported() ?? []) : builtinSplit(split));
  const onFile = async (file: File | undefined) => {
    setImportError(null);
    if (!file) return;
    try {
      const suite = importSuiteText(file.name, await file.text());
      setImported(suite.scenarios);
      setPicker({ split: 'imported', cell: null, domain: '', id: suite.scenarios[0]?.id ?? '' });
      setEdits(NO_EDITS);
    } catch (e) {
      setImportError((e as Error).message);
    }
  };

  // Load shared state (validated) from the URL hash; never runs anything.
  const decoded = decodeLabHash(props.initialHash);
  if (decoded.ok) {
    if (builtinSplit(decoded.state.split).some((s) => s.id === decoded.state.id)) {
      setPicker({ split: decoded.state.split, cell: decoded.state.cell ?? null, domain: '', id: decoded.state.id });
      setSharedModel(decoded.state.model ?? null);
      setEdits(decoded.state.edits);
      setPolicies([{ name: decoded.state.policies[0] }, { name: decoded.state.policies[1] }]);
    } else setHashError(`shared link: scenario "${decoded.state.id}" is not in the ${decoded.state.split} split`);
  } else if (decoded.error) setHashError(decoded.error);
  if (!picker().id) setPicker({ ...picker(), id: listFor(picker().split).find((s) => !picker().cell || s.cell === picker().cell)?.id ?? '' });

  const base = createMemo(() => listFor(picker().split).find((s) => s.id === picker().id) ?? null);
  const edited = createMemo(() => {
    const b = base();
    if (!b) return { scenario: null, error: null };
    try {
      return { scenario: applyEdits(b, edits()), error: null };
    } catch (e) {
      return { scenario: null, error: (e as Error).message };
    }
  });

  const runs: (() => Promise<void>)[] = [];
  const share = () => {
    const split = picker().split;
    if (split === 'imported') {
      setShareUrl('');
      setHashError('scenarios from an imported suite cannot be shared as a link (the link would not contain the suite)');
      return;
    }
    // Adapters live in this browser's storage: a link names the model policy, not the adapter.
    const model = loadedModel()?.label;
    const hash = encodeLabHash({
      split,
      id: picker().id,
      edits: edits(),
      policies: policies().map((p) => p.name) as [PolicyName, PolicyName],
      ...(picker().cell ? { cell: picker().cell! } : {}),
      ...(model ? { model } : {}),
    });
    history.replaceState(null, '', hash);
    setShareUrl(location.href);
    setCopied('');
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shareUrl());
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copy failed: select the link and copy it by hand.');
    }
  };

  return (
    <div class="lab">
      <Show when={hashError()}>
        <p class="error" role="alert" data-testid="hash-error">
          {hashError()}
        </p>
      </Show>
      <Show when={sharedModel()}>
        <p class="note" data-testid="shared-model">
          This link was made with the model {sharedModel()} loaded; load it in the Model tab to run the model policy the same way.
        </p>
      </Show>
      <section class="card" aria-labelledby="scenario-title">
        <h2 id="scenario-title">Scenario</h2>
        <div class="lab-setup">
          <div>
            <ScenarioPicker
              state={picker()}
              imported={imported()}
              onChange={(s) => {
                setPicker(s);
                setEdits(NO_EDITS);
              }}
            />
            <label for="lab-file">Or load scenarios from a suite file (our JSON or InjecAgent)</label>
            <input id="lab-file" data-testid="lab-file" type="file" accept=".json,application/json" onChange={(e) => void onFile(e.currentTarget.files?.[0])} />
            <Show when={importError()}>
              <p class="error" role="alert" data-testid="lab-import-error">
                {importError()}
              </p>
            </Show>
          </div>
          <Show when={base()}>{(b) => <ScenarioEditor base={b()} edits={edits()} onChange={setEdits} />}</Show>
        </div>
        <Show when={edited().scenario}>
          {(s) => (
            <p class="note" data-testid="scenario-info">
              {s().id} · cell {s().cell} · expected: {s().expected.replace(/_/g, ' ')} · tools: {s().tools.join(', ')}
            </p>
          )}
        </Show>
        <Show when={edited().error}>
          <p class="error" role="alert">
            {edited().error}
          </p>
        </Show>
        <div class="form row">
          <label for="verifier">Verifier</label>
          <select id="verifier" data-testid="verifier-select" value={verifier()} onChange={(e) => setVerifier(e.currentTarget.value as VerifierMode)}>
            <option value="human">you (Approve / Deny buttons)</option>
            <option value="scenario">the scenario's owner (automatic)</option>
          </select>
          <label for="max-turns">Max turns</label>
          <input
            id="max-turns"
            type="number"
            min="1"
            max="16"
            value={maxTurns()}
            onChange={(e) => setMaxTurns(Math.min(16, Math.max(1, Math.floor(Number(e.currentTarget.value)) || 1)))}
          />
          <button class="primary" data-testid="run-both" onClick={() => runs.forEach((r) => void r())}>
            Run both
          </button>
          <button data-testid="share" onClick={share}>
            Share as link
          </button>
          <button data-testid="refresh-adapters" onClick={adapters.refetch} title="Training and imports add checkpoints: list them in the policy selectors">
            Refresh adapters
          </button>
        </div>
        <Show when={shareUrl()}>
          <label for="share-url">Link to this scenario</label>
          <div class="form row">
            <input id="share-url" data-testid="share-url" readonly value={shareUrl()} onFocus={(e) => e.currentTarget.select()} />
            <button data-testid="copy-share" onClick={() => void copy()}>
              Copy link
            </button>
            <span class="note" role="status" data-testid="copy-status">
              {copied()}
            </span>
          </div>
          <Show when={policies().some((p) => p.adapter)}>
            <p class="note">Adapters stay in this browser's storage: the link opens those columns on the base model.</p>
          </Show>
        </Show>
      </section>
      <div class="columns">
        <EpisodeColumn
          title="Left"
          testId="column-left"
          policy={policies()[0]}
          onPolicy={(p) => setPolicies([p, policies()[1]])}
          adapters={adapters.list()}
          scenario={() => edited().scenario}
          verifier={verifier()}
          maxTurns={maxTurns()}
          registerRun={(r) => (runs[0] = r)}
        />
        <EpisodeColumn
          title="Right"
          testId="column-right"
          policy={policies()[1]}
          onPolicy={(p) => setPolicies([policies()[0], p])}
          adapters={adapters.list()}
          scenario={() => edited().scenario}
          verifier={verifier()}
          maxTurns={maxTurns()}
          registerRun={(r) => (runs[1] = r)}
        />
      </div>
    </div>
  );
}
