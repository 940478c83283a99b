// One assistant turn of a trajectory: thinking, tool calls, verification requests and their
// answers, tool responses, refusal or final answer. All model and tool text is rendered as text
// nodes only ({...} interpolation), never as HTML: it is attacker-controlled.
import { For, Show, type JSX } from 'solid-js';
import type { TurnRecord } from '../../sandbox/index';
import { DecisionBadge, turnDecision } from './Decision';

const json = (v: unknown) => JSON.stringify(v, null, 1);

export function TurnView(props: { turn: TurnRecord }): JSX.Element {
  const t = () => props.turn;
  const decision = () => turnDecision(t());
  return (
    <li class={`turn turn-${decision()}`} data-testid="turn" data-decision={decision()}>
      <div class="turn-head">
        <span>Turn {t().index + 1}</span>
        <DecisionBadge decision={decision()} />
        <Show when={!t().parsed.format.ok}><span class="badge badge-warn">⚠ format</span></Show>
      </div>
      <Show when={t().parsed.think}>
        <details class="think"><summary>Thinking</summary><pre>{t().parsed.think}</pre></details>
      </Show>
      <For each={t().parsed.toolCalls}>
        {(c) => (
          <div class="block block-call">
            <div class="block-title">Tool call: <code>{c.name}</code></div>
            <pre>{json(c.arguments)}</pre>
          </div>
        )}
      </For>
      <For each={t().checks}>
        {(c) => (
          <div class="block block-check" data-testid="check-record">
            <div class="block-title">Verification request (&lt;tool_check&gt;): <code>{c.name}</code></div>
            <pre>{json(c.arguments)}</pre>
            <Show when={c.reason}><p class="reason">Reason: {c.reason}</p></Show>
            <p class={c.approved ? 'approved' : 'denied'}>{c.approved ? '✓ Approved' : '✕ Denied'}: {c.message}</p>
          </div>
        )}
      </For>
      <For each={t().observations}>
        {(o) => (
          <div class={`block block-obs ${o.ok ? '' : 'block-error'}`} data-testid="tool-response">
            <div class="block-title">{o.ok ? 'Tool response' : 'Error'}: <code>{o.tool}</code></div>
            <pre>{o.content}</pre>
          </div>
        )}
      </For>
      <Show when={t().parsed.answer.trim()}>
        <div class={`block ${t().refusal ? 'block-refusal' : 'block-answer'}`} data-testid="answer">
          <div class="block-title">{t().refusal ? 'Refusal' : t().final ? 'Final answer' : 'Text'}</div>
          <p class="answer-text">{t().parsed.answer}</p>
        </div>
      </Show>
      <Show when={t().parsed.issues.length}>
        <ul class="issues">
          <For each={t().parsed.issues}>{(i) => <li>{i.message}</li>}</For>
        </ul>
      </Show>
      <details class="raw"><summary>Raw model text</summary><pre data-testid="raw-text">{t().modelText}</pre></details>
    </li>
  );
}
