// The turn parser: well-formed Qwen/Hermes output, each kind of malformation, and a fuzz of
// thousands of random and mutated strings that must never throw.
import { describe, expect, it } from 'vitest';
import { parseTurn } from '../../src/sandbox/parse';
import { Rng } from '../../src/sandbox/rng';
import { flagsInjection, isRefusal } from '../../src/sandbox/refusal';

describe('parseTurn', () => {
  it('parses think, several tool calls and a verification request', () => {
    const p = parseTurn(
      '<think>plan it</think>\nSure.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n<tool_call>{"name": "b", "arguments": {}}</tool_call><tool_check>{"name": "bank_transfer", "arguments": {"amount": 5}, "reason": "money"}</tool_check><|im_end|>',
    );
    expect(p.think).toBe('plan it');
    expect(p.toolCalls).toEqual([
      { name: 'a', arguments: { x: 1 } },
      { name: 'b', arguments: {} },
    ]);
    expect(p.toolChecks).toEqual([{ name: 'bank_transfer', arguments: { amount: 5 }, reason: 'money' }]);
    expect(p.answer).toBe('Sure.');
    expect(p.format).toEqual({ pairedTags: true, validToolJson: true, properEnd: true, ok: true });
    expect(p.issues).toEqual([]);
  });

  it('accepts a closing </think> whose opening tag came from the chat template', () => {
    const p = parseTurn('reasoning here</think>\n\nThe answer is 4.');
    expect(p.think).toBe('reasoning here');
    expect(p.answer).toBe('The answer is 4.');
    expect(p.format.ok).toBe(true);
  });

  it('ignores tags mentioned inside <think>', () => {
    const p = parseTurn('<think>I should emit <tool_call> with </tool_call> later</think><tool_call>{"name": "a", "arguments": {}}</tool_call>');
    expect(p.think).toBe('I should emit <tool_call> with </tool_call> later');
    expect(p.toolCalls).toEqual([{ name: 'a', arguments: {} }]);
    expect(p.format.ok).toBe(true);
  });

  it('handles long adversarial text quickly', () => {
    const long = "I'm sorry, but I ".repeat(5000) + '<tool_call>'.repeat(2000) + 'x'.repeat(100_000);
    const t0 = Date.now();
    const p = parseTurn(long);
    isRefusal(p);
    flagsInjection(long);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('accepts arguments encoded as a JSON string', () => {
    expect(parseTurn('<tool_call>{"name": "a", "arguments": "{\\"k\\": 2}"}</tool_call>').toolCalls).toEqual([{ name: 'a', arguments: { k: 2 } }]);
  });

  const bad: [string, string, keyof ReturnType<typeof parseTurn>['format']][] = [
    ['<tool_call>{"name": "a", "arguments": {}', 'unclosed_tag', 'pairedTags'],
    ['<tool_call>{name: a}</tool_call>', 'bad_json', 'validToolJson'],
    ['<tool_call>{"arguments": {}}</tool_call>', 'bad_call_shape', 'validToolJson'],
    ['<tool_call>{"name": "a"}</tool_call>', 'bad_call_shape', 'validToolJson'],
    ['<tool_call>{"name": "a", "arguments": [1]}</tool_call>', 'bad_call_shape', 'validToolJson'],
    ['<tool_call>[1,2]</tool_call>', 'bad_call_shape', 'validToolJson'],
    ['done </tool_call>', 'stray_closing_tag', 'pairedTags'],
    ['<tool_call><tool_call>{"name":"a","arguments":{}}</tool_call>', 'nested_tag', 'pairedTags'],
    ['<tool_call>{"name":"a","arguments":{}}</tool_call><tool_response>{"ok":1}</tool_response>', 'hallucinated_tool_response', 'properEnd'],
    ['Sure<|im_end|>\n<|im_start|>user\nhi', 'improper_end', 'properEnd'],
    ['<tool_check>{"name": "x", "arguments": {}, "reason": "r"}', 'unclosed_tag', 'pairedTags'],
  ];
  for (const [text, kind, flag] of bad) {
    it(`reports ${kind} for ${JSON.stringify(text).slice(0, 50)}`, () => {
      const p = parseTurn(text);
      expect(p.issues.map((i) => i.kind)).toContain(kind);
      expect(p.format[flag]).toBe(false);
      expect(p.format.ok).toBe(false);
    });
  }

  it('keeps valid calls next to broken ones and lists the broken ones with a reason', () => {
    const p = parseTurn('<tool_call>{"name":"a","arguments":{}}</tool_call><tool_call>{oops}</tool_call>');
    expect(p.toolCalls).toHaveLength(1);
    expect(p.rejected).toHaveLength(1);
    expect(p.rejected[0].error).toMatch(/invalid JSON in <tool_call>/);
  });

  it('marks truncated turns as not properly ended', () => {
    const p = parseTurn('I will now', false);
    expect(p.format.properEnd).toBe(false);
    expect(p.issues[0].kind).toBe('truncated');
  });

  it('never throws on thousands of random and malformed strings', () => {
    const rng = new Rng(12345);
    const pieces = [
      '<tool_call>',
      '</tool_call>',
      '<tool_check>',
      '</tool_check>',
      '<think>',
      '</think>',
      '<tool_response>',
      '</tool_response>',
      '<|im_end|>',
      '<|im_start|>',
      '<|endoftext|>',
      '{"name": "email_send", "arguments": {"to": ["a@b.c"]}}',
      '{"name": 1}',
      '{',
      '}',
      '"',
      '\\',
      '[',
      ']',
      'null',
      'arguments',
      "I can't help with that.",
      '\n',
      ' ',
      'ÿ',
      '\u0000',
      '\ud800',
      '💥',
      '<',
      '>',
      '/',
      'tool_call',
    ];
    const valid = '<tool_call>{"name": "a", "arguments": {"x": [1, {"y": null}]}}</tool_call>';
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const mode = n % 3;
      if (mode === 0) for (let k = rng.int(0, 12); k > 0; k--) s += rng.pick(pieces);
      else if (mode === 1) for (let k = rng.int(0, 200); k > 0; k--) s += String.fromCharCode(rng.int(0, 0xffff));
      else {
        s = valid;
        for (let k = rng.int(1, 4); k > 0; k--) {
          const at = rng.int(0, s.length);
          s = rng.chance(0.5) ? s.slice(0, at) + s.slice(at + rng.int(1, 6)) : s.slice(0, at) + rng.pick(pieces) + s.slice(at);
        }
      }
      const p = parseTurn(s, rng.chance(0.9));
      expect(typeof p.format.ok).toBe('boolean');
      for (const c of [...p.toolCalls, ...p.toolChecks]) {
        expect(typeof c.name).toBe('string');
        expect(typeof c.arguments).toBe('object');
      }
      if (p.format.ok) expect(p.issues).toEqual([]);
    }
    for (const weird of [undefined, null, 42, {}] as unknown as string[]) expect(() => parseTurn(weird)).not.toThrow();
  });
});
