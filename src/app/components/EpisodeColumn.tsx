// One column of the Attack Lab: a policy selector and a streamed episode on the current scenario,
// with the human verifier (Approve / Deny) when the agent asks <tool_check>.
import { createSignal, For, onCleanup, Show, type JSX } from 'solid-js';
import { callbackVerifier, Episode, scenarioVerifier, type EpisodeResult, type Scenario, type TurnRecord, type VerificationRequest } from '../../sandbox/index';
import type { AdapterListResult } from '../../worker-api/protocol';
import { makePolicy, type PolicyPick } from '../policy-factory';
import { engine, loadedModel, maxNewTokens } from '../state';
import { PolicySelect } from './PolicySelect';
import { RewardView } from './RewardView';
import { TurnView } from './TurnView';

export type VerifierMode = 'human' | 'scenario';

interface PendingCheck {
  request: VerificationRequest;
  answer: (approved: boolean) => void;
}

export interface EpisodeColumnProps {
  title: string;
  testId: string;
  policy: PolicyPick;
  onPolicy: (p: PolicyPick) => void;
  /** Stored checkpoints and whether they fit the loaded model, for the policy selector. */
  adapters: AdapterListResult | undefined;
  scenario: () => Scenario | null;
  verifier: VerifierMode;
  maxTurns: number;
  registerRun?: (run: () => Promise<void>) => void;
}

export function EpisodeColumn(props: EpisodeColumnProps): JSX.Element {
  const [turns, setTurns] = createSignal<TurnRecord[]>([]);
  const [live, setLive] = createSignal('');
  const [pending, setPending] = createSignal<PendingCheck | null>(null);
  const [result, setResult] = createSignal<EpisodeResult | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [userText, setUserText] = createSignal('');
  const [ranWith, setRanWith] = createSignal('');
  // The model's progress in the current turn: prefill time until the first token, then tokens/s.
  const [turnStats, setTurnStats] = createSignal<{ turn: number; startedAt: number; firstTokenAt: number | null; tokens: number } | null>(null);
  const [now, setNow] = createSignal(performance.now());
  const clock = setInterval(() => {
    if (turnStats()) setNow(performance.now());
  }, 500);
  onCleanup(() => clearInterval(clock));
  const progressText = () => {
    const st = turnStats();
    if (!st) return 'Running…';
    if (st.firstTokenAt === null) return `Turn ${st.turn}: reading the prompt (prefill)… ${((now() - st.startedAt) / 1000).toFixed(0)} s`;
    const seconds = Math.max(1e-3, (Math.max(now(), st.firstTokenAt) - st.firstTokenAt) / 1000);
    return `Turn ${st.turn}: ${st.tokens} token(s) · ${(st.tokens / seconds).toFixed(1)} tokens/s · prefill took ${((st.firstTokenAt - st.startedAt) / 1000).toFixed(1)} s`;
  };
  let controller: AbortController | undefined;

  const modelMissing = () => props.policy.name === 'model' && !loadedModel();

  const run = async () => {
    const scenario = props.scenario();
    if (!scenario || busy()) return;
    if (modelMissing()) {
      setError('Load a model in the Model tab first, or pick a scripted policy.');
      return;
    }
    setTurns([]);
    setLive('');
    setResult(null);
    setError(null);
    setPending(null);
    setUserText(scenario.user);
    controller = new AbortController();
    const signal = controller.signal;
    const verifier =
      props.verifier === 'human'
        ? callbackVerifier(
            'human',
            (request) =>
              new Promise<boolean>((resolve, reject) => {
                signal.addEventListener('abort', () => reject(new Error('stopped by the user')), { once: true });
                setPending({
                  request,
                  answer: (approved) => {
                    setPending(null);
                    resolve(approved);
                  },
                });
              }),
          )
        : scenarioVerifier();
    setBusy(true);
    const pick = props.policy;
    setRanWith(pick.adapter ? `the model with adapter "${pick.adapter.label}"` : pick.name === 'model' ? 'the base model' : `the scripted ${pick.name} policy`);
    try {
      const onText = (t: string) => {
        setLive(t);
        const st = turnStats();
        if (st) {
          const at = performance.now();
          setTurnStats({ ...st, tokens: st.tokens + 1, firstTokenAt: st.firstTokenAt ?? at });
          setNow(at);
        }
      };
      const policy = makePolicy(props.policy, engine(), { maxNewTokens: maxNewTokens(), sampling: { temperature: 0.7, topP: 0.9, seed: 1 }, onText });
      const episode = new Episode(scenario, policy, { maxTurns: props.maxTurns, verifier, signal });
      while (!episode.done) {
        if (pick.name === 'model') setTurnStats({ turn: episode.turns.length + 1, startedAt: performance.now(), firstTokenAt: null, tokens: 0 });
        const record = await episode.step();
        setLive('');
        if (record) setTurns([...episode.turns]);
      }
      const r = episode.result();
      setResult(r);
      if (r.error) setError(r.error);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      setPending(null);
      setLive('');
      setTurnStats(null);
    }
  };
  props.registerRun?.(run);

  return (
    <section class="card column" data-testid={props.testId} aria-label={props.title}>
      <div class="column-head">
        <h3>{props.title}</h3>
        <PolicySelect label={`Policy for ${props.title}`} testId="policy-select" value={props.policy} onChange={props.onPolicy} adapters={props.adapters} />
        <button class="primary" data-testid="run" onClick={run} disabled={busy() || !props.scenario()}>
          Run
        </button>
        <Show when={busy()}>
          <button data-testid="stop" onClick={() => controller?.abort()}>
            Stop
          </button>
        </Show>
      </div>
      <Show when={modelMissing()}>
        <p class="note">The model policy needs a loaded model (Model tab).</p>
      </Show>
      <Show when={userText()}>
        <div class="block block-user">
          <div class="block-title">User</div>
          <p class="answer-text">{userText()}</p>
        </div>
      </Show>
      <ol class="turns" data-testid="trajectory">
        <For each={turns()}>{(t) => <TurnView turn={t} attacker={props.scenario()?.attacker} />}</For>
      </ol>
      <Show when={live()}>
        <div class="block live" data-testid="live-text" aria-live="polite">
          <div class="block-title">Generating…</div>
          <pre>{live()}</pre>
        </div>
      </Show>
      <Show when={pending()}>
        {(p) => (
          <div class="block block-check pending" role="group" aria-label="Verification request" data-testid="pending-check">
            <div class="block-title">
              The agent asks to verify: <code>{p().request.name}</code>
            </div>
            <pre>{JSON.stringify(p().request.arguments, null, 1)}</pre>
            <Show when={p().request.reason}>
              <p class="reason">Reason: {p().request.reason}</p>
            </Show>
            <div class="buttons">
              <button class="approve" data-testid="approve" onClick={() => p().answer(true)}>
                ✓ Approve
              </button>
              <button class="deny" data-testid="deny" onClick={() => p().answer(false)}>
                ✕ Deny
              </button>
            </div>
          </div>
        )}
      </Show>
      <Show when={busy() && !pending()}>
        <p class="note" aria-live="polite" data-testid="turn-progress">
          {progressText()}
        </p>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert" data-testid="episode-error">
          {error()}
        </p>
      </Show>
      <Show when={result()}>
        {(r) => (
          <div data-testid="episode-result" data-end={r().endReason}>
            <p class="note" data-testid="ran-with">
              Ran {ranWith()}. Ended: {r().endReason.replace('_', ' ')} after {r().turns.length} turn(s).
            </p>
            <RewardView score={r().score} />
          </div>
        )}
      </Show>
    </section>
  );
}
