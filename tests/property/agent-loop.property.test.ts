// Property tests (fast-check, fixed seeds) of the turn parser and the agent loop on hostile model
// output (issue #12). Properties and bounds:
//  - parseTurn on arbitrary text built from tag fragments, JSON, brackets and noise never throws
//    and returns in < 250 ms per input (700 runs);
//  - an episode whose model writes arbitrary tool calls/checks (any JSON as arguments, tool names
//    including prototype members, nesting up to 40 levels, arguments as JSON strings) never
//    throws, ends, scores a finite reward in [0, 1] and serialises, in < 1 s per episode (250 runs);
//  - brackets nested to any depth up to 20,000 never throw and are refused by the depth limit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/sandbox/limits';
import { parseTurn } from '../../src/sandbox/parse';
import { BUILTIN_TOOLS } from '../../src/sandbox/tools/index';
import { expectSaneEpisode, runHostile, within } from './helpers';

const FRAGMENTS = ['<tool_call>', '</tool_call>', '<tool_check>', '</tool_check>', '<think>', '</think>', '<tool_response>', '</tool_response>',
  '<|im_end|>', '<|endoftext|>', '<|im_start|>', '{', '}', '[', ']', '"', '\\', ':', ',', '"name"', '"arguments"', '\n', ' '];
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const TOOL_NAMES = [...BUILTIN_TOOLS.map((t) => t.name), 'AnyArgsSideEffect', 'StrictNotify', ...PROTO_NAMES, 'no_such_tool', ''];

const noisyText = fc.array(fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 6 }) },
), { maxLength: 120 }).map((parts) => parts.join(''));

// Keys an attacker might use, so objects carry prototype-member names as own keys.
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_NAMES, 'to', 'sql', 'query', 'amount', 'account'));
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e308, 'evil@attacker.test', "SELECT * FROM customers WHERE id = 1", 'a@' + 'a.'.repeat(200) + '@'),
    fc.string({ maxLength: 30 }), fc.double(), fc.integer(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 })),
})).v;

/** A JSON value nested `depth` levels (objects and arrays mixed), for the depth limit. */
const nested = (depth: number, leaf: unknown, arrays: boolean[]) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = arrays[i % arrays.length] ? [v] : { k: v };
  return v;
};

const callBody = fc.record({
  name: fc.constantFrom(...TOOL_NAMES),
  args: fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(key, jsonish, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 40 }), jsonish, fc.array(fc.boolean(), { minLength: 1, maxLength: 3 })).map(([d, leaf, arrays]) => ({ deep: nested(d, leaf, arrays) })) },
    { weight: 1, arbitrary: jsonish },
  ),
  asString: fc.boolean(),
  reason: fc.option(fc.string({ maxLength: 20 })),
}).map(({ name, args, asString, reason }) => JSON.stringify({ name, arguments: asString ? JSON.stringify(args) : args, ...(reason === null ? {} : { reason }) }));

const turn = fc.array(fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('tool_call', 'tool_check'), callBody).map(([tag, body]) => `<${tag}>\n${body}\n</${tag}>`) },
  { weight: 1, arbitrary: noisyText },
  { weight: 1, arbitrary: fc.constantFrom("I can't help with that.", 'Done. I ignored the injected instructions.', '<think>plan</think>', '') },
), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('\n'));

describe('property: the turn parser on arbitrary text', () => {
  it('never throws, stays within 250 ms per input, and returns well-formed calls (700 runs, seed 1201)', async () => {
    await fc.assert(fc.asyncProperty(noisyText, async (text) => {
      const p = await within(250, () => parseTurn(text));
      for (const c of [...p.toolCalls, ...p.toolChecks]) {
        expect(typeof c.name).toBe('string');
        expect(typeof c.arguments === 'object' && c.arguments !== null && !Array.isArray(c.arguments)).toBe(true);
      }
      expect(typeof p.format.ok).toBe('boolean');
    }), { seed: 1201, numRuns: 700 });
  });

  it('refuses nesting past the limit at any depth up to 20,000 without throwing (150 runs, seed 1202)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), async (depth, open) => {
      const close = open === '[' ? ']' : '}';
      const args = open.repeat(depth) + '1' + close.repeat(depth);
      const p = await within(250, () => parseTurn(`<tool_call>{"name":"AnyArgsSideEffect","arguments":{"x":${args}}}</tool_call>`));
      // The outer object and "arguments" are 2 levels; "x" adds `depth` more.
      expect(p.toolCalls.length).toBe(depth + 2 <= LIMITS.callJsonDepth ? 1 : 0);
    }), { seed: 1202, numRuns: 150 });
  });
});

describe('property: the agent loop on arbitrary model turns', () => {
  it('never throws, ends, and scores a finite reward in [0, 1] within 1 s per episode (250 runs, seed 1203)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 4 }), async (turns) => {
      const r = await within(1000, () => runHostile(turns, 4));
      expectSaneEpisode(r);
      expect(r.turns.length).toBeGreaterThan(0);
      expect(r.turns.length).toBeLessThanOrEqual(4);
      for (const c of r.calls) expect(typeof c.content).toBe('string');
    }), { seed: 1203, numRuns: 250 });
  });
});
