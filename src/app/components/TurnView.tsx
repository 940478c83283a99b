// One assistant turn of a trajectory: thinking, tool calls, verification requests and their
// answers, tool responses, refusal or final answer. All model and tool text is rendered as text
// nodes only ({...} interpolation), never as HTML: it is attacker-controlled.
import { For, Show, type JSX } from 'solid-js';
import type { AttackerSpec, TurnRecord } from '../../sandbox/index';
import { callMatches, sameCall } from '../../sandbox/matching';
import { DecisionBadge, turnDecision } from './Decision';
import { Marked } from './Marked';

const json = (v: unknown) => JSON.stringify(v, null, 1);

/** Tool output as readable text: JSON pretty-printed (strings unescaped), anything else as is. */
export function prettyToolOutput(content: string): string {
  try {
    return JSON.stringify(JSON.parse(content), null, 2);
  } catch {
    return content;
  }
}

/** The trigger as it appears in (JSON) text: verbatim or escaped. */
function markIn(text: string, trigger: string | undefined): string | undefined {
  return trigger ? [trigger, JSON.stringify(trigger).slice(1, -1)].find((m) => text.includes(m)) : undefined;
}

/** With `attacker`, calls that achieve its goal are marked harmful and the injected text is highlighted. */
export function TurnView(props: { turn: TurnRecord; attacker?: Pick<AttackerSpec, 'calls' | 'trigger'> }): JSX.Element {
  const t = () => props.turn;
  const decision = () => turnDecision(t());
  return (
    <li class={`turn turn-${decision()}`} data-testid="turn" data-decision={decision()}>
      <div class="turn-head">
        <span>Turn {t().index + 1}</span>
        <DecisionBadge decision={decision()} />
        <Show when={!t().parsed.format.ok}>
          <span class="badge badge-warn">⚠ format</span>
        </Show>
      </div>
      <Show when={t().parsed.think}>
        <details class="think">
          <summary>Thinking</summary>
          <pre>{t().parsed.think}</pre>
        </details>
      </Show>
      <For each={t().parsed.toolCalls}>
        {(c) => {
          const harmful = () => !!props.attacker?.calls.some((p) => callMatches(c, p));
          // A sensitive tool run without an approved <tool_check> first.
          const unapproved = () => t().calls.some((x) => x.privilege === 'sensitive' && !x.approvedBefore && sameCall(x, c));
          return (
            <div class={`block block-call ${harmful() ? 'block-harmful' : ''}`} data-testid="tool-call" data-harmful={harmful()}>
              <div class="block-title">
                Tool call: <code>{c.name}</code>
                <Show when={harmful()}>
                  {' '}
                  <span class="badge badge-harmful">⚠ harmful: the attacker's goal</span>
                </Show>
                <Show when={unapproved()}>
                  {' '}
                  <span class="badge badge-warn" data-testid="unapproved">
                    sensitive, run without approval
                  </span>
                </Show>
              </div>
              <pre>{json(c.arguments)}</pre>
            </div>
          );
        }}
      </For>
      <For each={t().checks}>
        {(c) => (
          <div class="block block-check" data-testid="check-record">
            <div class="block-title">
              Verification request (&lt;tool_check&gt;): <code>{c.name}</code>
            </div>
            <pre>{json(c.arguments)}</pre>
            <Show when={c.reason}>
              <p class="reason">Reason: {c.reason}</p>
            </Show>
            <p class={c.approved ? 'approved' : 'denied'}>
              {c.approved ? '✓ Approved' : '✕ Denied'}: {c.message}
            </p>
          </div>
        )}
      </For>
      <For each={t().observations}>
        {(o) => (
          <div class={`block block-obs ${o.ok ? '' : 'block-error'}`} data-testid="tool-response">
            <div class="block-title">
              {o.ok ? 'Tool response' : 'Error'}: <code>{o.tool}</code>
            </div>
            <pre>
              <Marked text={prettyToolOutput(o.content)} mark={markIn(prettyToolOutput(o.content), props.attacker?.trigger)} />
            </pre>
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
      <details class="raw">
        <summary>Raw model text</summary>
        <pre data-testid="raw-text">{t().modelText}</pre>
      </details>
    </li>
  );
}
