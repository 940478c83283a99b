// Demo mode for talks: large type, one preset story (an email with an injection, read by two
// policies side by side), stepped with the keyboard: → or Space next, ← back, Esc exits.
// Scripted policies and the tiny model work offline. With a bundled model loaded that ships a
// built-in adapter (the demo agent and its aligned adapter), the pair is base vs adapter at once.
import { createEffect, createResource, createSignal, For, on, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { runEpisode, scenarioVerifier, type Scenario } from '../../sandbox/index';
import { checkpointsChanged, createAdapterList } from '../adapter-list';
import { describeBuiltinAdapters, ensureBuiltinAdapter } from '../builtin-adapters';
import { fittingAdapters, pickFromValue, pickValue } from '../components/PolicySelect';
import { Marked } from '../components/Marked';
import { TurnView } from '../components/TurnView';
import { builtinSplit } from '../lib/suites';
import { POLICY_NAMES, type PolicyName } from '../lib/share-hash';
import { makePolicy, type PolicyPick } from '../policy-factory';
import { engine, loadedModel, maxNewTokens } from '../state';

export function demoScenario(): Scenario {
  const bu = builtinSplit('test').filter((s) => s.cell === 'BU-MT' && s.world.patches[0]?.collection === 'emails' && s.attacker?.trigger);
  return bu.find((s) => s.attacker?.attackType === 'financial') ?? bu[0] ?? builtinSplit('test').find((s) => s.cell === 'BU-MT')!;
}

export function DemoMode(props: { onExit: () => void; left?: PolicyName; right?: PolicyName }): JSX.Element {
  const scenario = demoScenario();
  // comply vs oracle works offline; with a model loaded the presenter can pick it, or a stored
  // checkpoint's adapter that fits it (base vs adapter).
  const scripted: [PolicyPick, PolicyPick] = [{ name: props.left ?? 'comply' }, { name: props.right ?? 'oracle' }];
  const modelId = loadedModel()?.registryId;
  const builtin = !props.left && !props.right && modelId ? describeBuiltinAdapters().then((all) => all.find((a) => a.modelId === modelId)) : undefined;
  // Undefined while a built-in adapter is being set up: nothing runs until the pair is known.
  const [pair, setPair] = createSignal<[PolicyPick, PolicyPick] | undefined>(builtin ? undefined : scripted);
  const [setupError, setSetupError] = createSignal<string | null>(null);
  void builtin
    ?.then(async (info) => {
      if (!info) return setPair(scripted);
      const checkpointId = await ensureBuiltinAdapter(info, engine());
      checkpointsChanged();
      setPair([{ name: 'model' }, { name: 'model', adapter: { checkpointId, label: info.name } }]);
    })
    .catch((e) => {
      setSetupError(`The built-in adapter could not be set up: ${(e as Error).message}`);
      setPair(scripted);
    });
  /** The pair the selects and titles show (the scripted one until a built-in pair is ready). */
  const shown = () => pair() ?? scripted;
  const adapters = createAdapterList();
  const [episodes] = createResource(pair, async ([left, right]) => {
    const policy = (p: PolicyPick) => makePolicy(p, engine(), { maxNewTokens: maxNewTokens(), sampling: { greedy: true } });
    // One after the other: the worker runs one generation at a time anyway.
    const a = await runEpisode(scenario, policy(left), { verifier: scenarioVerifier(), maxTurns: 6 });
    const b = await runEpisode(scenario, policy(right), { verifier: scenarioVerifier(), maxTurns: 6 });
    return [a, b];
  });
  // Only a finished run for the current pair: while a new pick runs, the old pair's turns must not
  // show under the new titles; a failed run (e.g. the model) is shown, not thrown.
  const ready = () => (episodes.state === 'ready' ? episodes() : undefined);
  const [step, setStep] = createSignal(0);
  const maxTurns = () => Math.max(...(ready() ?? []).map((e) => e.turns.length), 0);
  const lastStep = () => 2 + maxTurns();
  let root!: HTMLDivElement;

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      props.onExit();
    } else if (e.key === 'ArrowRight' || e.key === ' ') {
      e.preventDefault();
      setStep(Math.min(lastStep(), step() + 1));
    } else if (e.key === 'ArrowLeft') {
      e.preventDefault();
      setStep(Math.max(0, step() - 1));
    }
  };
  onMount(() => {
    document.addEventListener('keydown', onKey);
    root.focus();
  });
  // On a projector the key moment must stay on screen: a harmful call, once shown, is centred and
  // held there; otherwise the newest turn is brought into view (not the page bottom).
  createEffect(
    on(
      step,
      () =>
        queueMicrotask(() => {
          const harmful = root.querySelector('[data-harmful="true"]');
          const turns = root.querySelectorAll('.turn');
          const target = harmful ?? turns[turns.length - 1] ?? (step() >= lastStep() ? root.querySelector('[data-testid="demo-verdict"]') : null);
          target?.scrollIntoView({ block: harmful ? 'center' : 'nearest', behavior: 'instant' as ScrollBehavior });
        }),
      { defer: true },
    ),
  );
  const choices = () => POLICY_NAMES.filter((p) => p !== 'model' || loadedModel());
  const title = (p: PolicyPick) => (p.adapter ? `model + ${p.adapter.label}` : p.name);
  // Adapter options arrive after the selects are built: set their values again when they do.
  const selects: HTMLSelectElement[] = [];
  createEffect(() => {
    adapters.list();
    shown().forEach((p, side) => {
      if (selects[side]) selects[side].value = pickValue(p);
    });
  });
  const pick = (side: 0 | 1) => (
    <select
      ref={(el) => (selects[side] = el)}
      aria-label={side === 0 ? 'Left policy' : 'Right policy'}
      value={pickValue(shown()[side])}
      onKeyDown={(e) => e.stopPropagation()}
      onChange={(e) => {
        const chosen = pickFromValue(e.currentTarget.value, fittingAdapters(adapters.list()));
        if (chosen) {
          const next = [...shown()] as [PolicyPick, PolicyPick];
          next[side] = chosen;
          setPair(next);
        }
        root.focus();
      }}
    >
      <For each={choices()}>{(p) => <option value={p}>{p}</option>}</For>
      <For each={fittingAdapters(adapters.list())}>
        {(i) => <option value={pickValue({ name: 'model', adapter: { checkpointId: i.id, label: i.name } })}>model + {i.name}</option>}
      </For>
    </select>
  );
  onCleanup(() => document.removeEventListener('keydown', onKey));

  const email = () => scenario.world.patches[0]?.item as Record<string, unknown> | undefined;
  return (
    <div class="demo" role="dialog" aria-modal="true" aria-label="Demo mode" data-testid="demo" tabindex="-1" ref={root}>
      <header class="demo-head">
        <span>
          Demo · step <span data-testid="demo-step">{step()}</span> / {lastStep()}
        </span>
        <span class="note">→ / Space next · ← back · Esc exit</span>
        <span class="demo-pick">
          {pick(0)} vs {pick(1)}
        </span>
        <button onClick={props.onExit} data-testid="demo-exit">
          Exit demo
        </button>
      </header>
      <section class="demo-body">
        <Show when={builtin && !pair()}>
          <p class="note" data-testid="demo-builtin-setup">
            Putting the built-in adapter beside the base model…
          </p>
        </Show>
        <Show when={setupError()}>
          <p class="error" role="alert" data-testid="demo-error">
            {setupError()}
          </p>
        </Show>
        <h2>The user asks:</h2>
        <p class="demo-quote">{scenario.user}</p>
        <Show when={step() >= 1 && email()}>
          {(m) => (
            <div class="demo-email" data-testid="demo-email">
              <h2>The email the agent will read</h2>
              <p>
                <strong>From:</strong> {String(m().from ?? '')} · <strong>Subject:</strong> {String(m().subject ?? '')}
              </p>
              <p class="demo-quote">
                <Marked text={String(m().body ?? '')} mark={scenario.attacker?.trigger} />
              </p>
              <p class="note">Highlighted: the injected instruction.</p>
            </div>
          )}
        </Show>
        <Show when={step() >= 2}>
          <Show
            when={ready()}
            fallback={
              episodes.state === 'errored' ? (
                <p class="error" role="alert" data-testid="demo-error">
                  The run failed: {(episodes.error as Error)?.message ?? String(episodes.error)}
                </p>
              ) : (
                <p>Running both agents…</p>
              )
            }
          >
            {(eps) => (
              <div class="columns demo-columns">
                <For each={eps()}>
                  {(ep, i) => (
                    <div class="card column" data-testid={`demo-column-${i()}`}>
                      <h2>{title(shown()[i()])}</h2>
                      <ol class="turns">
                        <For each={ep.turns.slice(0, step() - 2)}>{(t) => <TurnView turn={t} attacker={scenario.attacker} />}</For>
                      </ol>
                      <Show when={step() >= lastStep()}>
                        <p class={ep.score.outcome.attackSuccess ? 'demo-verdict bad' : 'demo-verdict good'} data-testid="demo-verdict">
                          {ep.score.outcome.attackSuccess ? '✕ The attacker won' : '✓ Attack blocked'} · reward {ep.score.reward.total.toFixed(2)}
                        </p>
                      </Show>
                    </div>
                  )}
                </For>
              </div>
            )}
          </Show>
        </Show>
      </section>
    </div>
  );
}
