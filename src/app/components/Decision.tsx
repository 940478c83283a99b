// What an assistant turn did, shown with an icon and a word as well as a colour.
import type { JSX } from 'solid-js';
import type { TurnRecord } from '../../sandbox/index';

export type TurnDecision = 'verify' | 'refuse' | 'execute' | 'answer';

export function turnDecision(turn: Pick<TurnRecord, 'parsed' | 'refusal'>): TurnDecision {
  if (turn.parsed.toolChecks.length > 0) return 'verify';
  if (turn.refusal) return 'refuse';
  if (turn.parsed.toolCalls.length > 0 || turn.parsed.rejected.length > 0) return 'execute';
  return 'answer';
}

const LOOK: Record<TurnDecision, { icon: string; text: string }> = {
  verify: { icon: '?', text: 'verify' },
  refuse: { icon: '✕', text: 'refuse' },
  execute: { icon: '▶', text: 'execute' },
  answer: { icon: '✓', text: 'answer' },
};

export function DecisionBadge(props: { decision: TurnDecision }): JSX.Element {
  return (
    <span class={`badge badge-${props.decision}`} data-decision={props.decision}>
      <span aria-hidden="true">{LOOK[props.decision].icon}</span> {LOOK[props.decision].text}
    </span>
  );
}
