// A text with one part marked (an injected instruction), built from text nodes only.
import { Show, type JSX } from 'solid-js';

export function Marked(props: { text: string; mark?: string }): JSX.Element {
  const i = () => (props.mark ? props.text.indexOf(props.mark) : -1);
  return (
    <Show when={i() >= 0} fallback={<>{props.text}</>}>
      {props.text.slice(0, i())}
      <mark data-testid="injected-text">{props.mark}</mark>
      {props.text.slice(i() + props.mark!.length)}
    </Show>
  );
}
