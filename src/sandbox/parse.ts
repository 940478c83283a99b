// Parser for one assistant turn in Qwen/Hermes format. Model text is attacker-influenced and
// often malformed, so this never throws: every problem becomes a ParseIssue, and the format
// checks (paired tags, valid tool JSON, proper end of turn) are reported separately.
// This is where model output becomes JSON: the size and depth limits (limits.ts) are applied
// here, once, so no deeper or larger value reaches the sandbox, the verifier or the judge.
import { LIMITS, parseJsonBounded } from './limits';

export interface ParsedCall {
  name: string;
  arguments: Record<string, unknown>;
}
export interface ParsedCheck extends ParsedCall {
  reason: string;
}

export type IssueKind =
  'unclosed_tag' | 'stray_closing_tag' | 'nested_tag' | 'bad_json' | 'bad_call_shape' | 'hallucinated_tool_response' | 'improper_end' | 'truncated';

export interface ParseIssue {
  kind: IssueKind;
  message: string;
}

export interface Segment {
  kind: 'text' | 'think' | 'tool_call' | 'tool_check' | 'tool_response';
  start: number;
  end: number;
  closed: boolean;
}

export interface ParsedTurn {
  /** The turn text with end-of-turn tokens removed. */
  text: string;
  think: string | null;
  toolCalls: ParsedCall[];
  toolChecks: ParsedCheck[];
  /** Text outside all tags: the answer or refusal shown to the user. */
  answer: string;
  issues: ParseIssue[];
  /** Tool calls or checks that could not be used, in order, with why (fed back as error observations). */
  rejected: { tag: 'tool_call' | 'tool_check'; body: string; error: string }[];
  format: { pairedTags: boolean; validToolJson: boolean; properEnd: boolean; ok: boolean };
  segments: Segment[];
}

const END_TOKENS = ['<|im_end|>', '<|endoftext|>'];
const TAG_RE = /<(\/?)(think|tool_call|tool_check|tool_response)>/g;
type TagName = 'think' | 'tool_call' | 'tool_check' | 'tool_response';

function stripEnd(raw: string): { text: string; trailing: string } {
  let cut = -1;
  for (const t of END_TOKENS) {
    const i = raw.indexOf(t);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  if (cut < 0) return { text: raw, trailing: '' };
  const after = raw.slice(cut).replace(/^(<\|im_end\|>|<\|endoftext\|>)/, '');
  return { text: raw.slice(0, cut), trailing: after.replace(/<\|im_end\|>|<\|endoftext\|>/g, '') };
}

function short(s: string, n = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

function parseCallBody(tag: 'tool_call' | 'tool_check', body: string): { call?: ParsedCheck; error?: string; kind?: IssueKind } {
  const parsed = parseJsonBounded(body.trim(), { maxChars: LIMITS.callJsonChars, maxDepth: LIMITS.callJsonDepth });
  if (!parsed.ok) {
    const error = parsed.error.startsWith('is not valid JSON')
      ? `invalid JSON in <${tag}>: ${parsed.error.slice('is not valid JSON ('.length, -1)} in ${JSON.stringify(short(body, 60))}`
      : `the JSON in <${tag}> ${parsed.error}`;
    return { kind: 'bad_json', error };
  }
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'bad_call_shape', error: `<${tag}> must contain a JSON object with "name" and "arguments"` };
  const obj = value as Record<string, unknown>;
  const own = (k: string) => (Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : undefined);
  const name = own('name');
  if (typeof name !== 'string' || !name.trim()) return { kind: 'bad_call_shape', error: `<${tag}> is missing a string "name"` };
  let args = own('arguments');
  // Some models encode arguments as a JSON string, as the OpenAI API does; accept that form,
  // under the same limits (one level is already used by the outer object).
  if (typeof args === 'string') {
    const inner = parseJsonBounded(args, { maxChars: LIMITS.callJsonChars, maxDepth: LIMITS.callJsonDepth - 1 });
    if (inner.ok) args = inner.value;
    else if (!inner.error.startsWith('is not valid JSON')) return { kind: 'bad_json', error: `<${tag}> for "${name}": "arguments" ${inner.error}` };
  }
  if (args === undefined) return { kind: 'bad_call_shape', error: `<${tag}> for "${name}" is missing "arguments"` };
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    return { kind: 'bad_call_shape', error: `<${tag}> for "${name}": "arguments" must be a JSON object` };
  const reason = own('reason');
  return { call: { name, arguments: args as Record<string, unknown>, reason: typeof reason === 'string' ? reason : '' } };
}

export function parseTurn(raw: string, finished = true): ParsedTurn {
  const full = typeof raw === 'string' ? raw : String(raw ?? '');
  // Past the limit the turn is parsed as if generation had stopped there.
  const tooLong = full.length > LIMITS.turnChars;
  const input = tooLong ? full.slice(0, LIMITS.turnChars) : full;
  if (tooLong) finished = false;
  const { text, trailing } = stripEnd(input);
  const issues: ParseIssue[] = [];
  const segments: Segment[] = [];
  const toolCalls: ParsedCall[] = [];
  const toolChecks: ParsedCheck[] = [];
  const rejected: ParsedTurn['rejected'] = [];
  const answerParts: string[] = [];
  let think: string | null = null;
  let pairedTags = true,
    validToolJson = true,
    properEnd = finished;

  if (tooLong) issues.push({ kind: 'truncated', message: `the turn is ${full.length} characters; only the first ${LIMITS.turnChars} were read` });
  else if (!finished) issues.push({ kind: 'truncated', message: 'the turn was cut off before an end-of-turn token' });
  if (trailing.trim()) {
    properEnd = false;
    issues.push({ kind: 'improper_end', message: `text after the end-of-turn token: ${JSON.stringify(short(trailing, 40))}` });
  }
  if (text.includes('<|im_start|>')) {
    properEnd = false;
    issues.push({ kind: 'improper_end', message: 'the turn contains <|im_start|>: the model started writing another turn' });
  }

  const closeBlock = (tag: TagName, start: number, bodyStart: number, bodyEnd: number, end: number, closed: boolean) => {
    const body = text.slice(bodyStart, bodyEnd);
    segments.push({ kind: tag, start, end, closed });
    if (tag === 'think') {
      think = (think ? think + '\n' : '') + body.trim();
      return;
    }
    if (tag === 'tool_response') {
      pairedTags = pairedTags && closed;
      properEnd = false;
      issues.push({ kind: 'hallucinated_tool_response', message: 'the model wrote a <tool_response> itself; tool responses come from the environment' });
      return;
    }
    if (!closed) {
      rejected.push({ tag, body, error: `unclosed <${tag}>: add </${tag}> after the JSON` });
      return;
    }
    const r = parseCallBody(tag, body);
    if (!r.call) {
      validToolJson = false;
      issues.push({ kind: r.kind!, message: r.error! });
      rejected.push({ tag, body, error: r.error! });
      return;
    }
    if (tag === 'tool_call') toolCalls.push({ name: r.call.name, arguments: r.call.arguments });
    else toolChecks.push(r.call);
  };
  const addText = (start: number, end: number) => {
    if (end <= start) return;
    segments.push({ kind: 'text', start, end, closed: true });
    answerParts.push(text.slice(start, end));
  };

  let open: { tag: TagName; start: number; bodyStart: number } | null = null;
  let pos = 0;
  let sawTag = false;
  for (const m of text.matchAll(TAG_RE)) {
    const at = m.index!;
    const closing = m[1] === '/';
    const tag = m[2] as TagName;
    // Reasoning may mention tags ("I will use <tool_call> next"): inside <think> only </think> counts.
    if (open?.tag === 'think' && tag !== 'think') continue;
    if (!closing) {
      if (open) {
        pairedTags = false;
        issues.push({ kind: 'nested_tag', message: `<${tag}> opened inside an unclosed <${open.tag}>` });
        closeBlock(open.tag, open.start, open.bodyStart, at, at, false);
      } else addText(pos, at);
      open = { tag, start: at, bodyStart: at + m[0].length };
    } else if (open && open.tag === tag) {
      closeBlock(tag, open.start, open.bodyStart, at, at + m[0].length, true);
      open = null;
    } else if (!open && tag === 'think' && !sawTag && think === null) {
      // Chat templates may put the opening <think> in the prompt; the model then writes only </think>.
      closeBlock('think', 0, 0, at, at + m[0].length, true);
      answerParts.length = 0;
      segments.splice(0, segments.length - 1);
    } else {
      pairedTags = false;
      issues.push({ kind: 'stray_closing_tag', message: `</${tag}> without a matching <${tag}>` });
      if (!open) addText(pos, at);
    }
    sawTag = true;
    pos = at + m[0].length;
  }
  if (open) {
    pairedTags = false;
    issues.push({ kind: 'unclosed_tag', message: `<${open.tag}> is never closed` });
    closeBlock(open.tag, open.start, open.bodyStart, text.length, text.length, false);
    if (open.tag === 'tool_call' || open.tag === 'tool_check') validToolJson = false;
    properEnd = false;
  } else addText(pos, text.length);

  const answer = answerParts.join(' ').replace(/\s+/g, ' ').trim();
  return {
    text,
    think,
    toolCalls,
    toolChecks,
    answer,
    issues,
    rejected,
    segments,
    format: { pairedTags, validToolJson, properEnd, ok: pairedTags && validToolJson && properEnd },
  };
}

/** Formats a call the way Qwen's chat template renders assistant tool calls. */
export function formatToolCall(name: string, args: Record<string, unknown>): string {
  return `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;
}

export function formatToolCheck(name: string, args: Record<string, unknown>, reason: string): string {
  return `<tool_check>\n${JSON.stringify({ name, arguments: args, reason })}\n</tool_check>`;
}
