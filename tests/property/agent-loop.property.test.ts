// Property tests (fast-check, fixed seeds) of the turn parser and the agent loop on hostile model
// output (issue #12). Properties and bounds:
//  - parseTurn on arbitrary text built from tag fragments, JSON, brackets and noise never throws
//    and returns in < 500 ms per input (700 runs);
//  - an episode whose model writes arbitrary tool calls/checks (any JSON as arguments, tool names
//    including prototype members, nesting up to 40 levels, arguments as JSON strings) never
//    throws, ends, scores a finite reward in [0, 1] and serialises, in < 1 s per episode (250 runs);
//  - brackets nested to any depth up to 20,000 never throw and are refused by the depth limit;
//  - the linear scans equal the regular expressions they replaced, on inputs short enough for
//    those to be fast (email checks 2000 runs, SQL 2000 runs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/sandbox/limits';
import { parseTurn } from '../../src/sandbox/parse';
import { findEmailAddresses, isEmailAddress } from '../../src/sandbox/text-scan';
import { parseSelect } from '../../src/sandbox/tools/database';
import { BUILTIN_TOOLS } from '../../src/sandbox/tools/index';
import { expectSaneEpisode, runHostile, within } from './helpers';

const FRAGMENTS = [
  '<tool_call>',
  '</tool_call>',
  '<tool_check>',
  '</tool_check>',
  '<think>',
  '</think>',
  '<tool_response>',
  '</tool_response>',
  '<|im_end|>',
  '<|endoftext|>',
  '<|im_start|>',
  '{',
  '}',
  '[',
  ']',
  '"',
  '\\',
  ':',
  ',',
  '"name"',
  '"arguments"',
  '\n',
  ' ',
];
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const TOOL_NAMES = [...BUILTIN_TOOLS.map((t) => t.name), 'AnyArgsSideEffect', 'StrictNotify', ...PROTO_NAMES, 'no_such_tool', ''];

const noisyText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
      { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 6 }) },
    ),
    { maxLength: 120 },
  )
  .map((parts) => parts.join(''));

// Keys an attacker might use, so objects carry prototype-member names as own keys.
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_NAMES, 'to', 'sql', 'query', 'amount', 'account'));
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1e308,
      'evil@attacker.test',
      'SELECT * FROM customers WHERE id = 1',
      'a@' + 'a.'.repeat(200) + '@',
      { toString: 'x' },
      [{ toString: 'x', valueOf: 1 }],
      ['evil@attacker.test', { toJSON: 1 }],
    ),
    fc.string({ maxLength: 30 }),
    fc.double(),
    fc.integer(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** A JSON value nested `depth` levels (objects and arrays mixed), for the depth limit. */
const nested = (depth: number, leaf: unknown, arrays: boolean[]) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = arrays[i % arrays.length] ? [v] : { k: v };
  return v;
};

const callBody = fc
  .record({
    name: fc.constantFrom(...TOOL_NAMES),
    args: fc.oneof(
      { weight: 4, arbitrary: fc.dictionary(key, jsonish, { maxKeys: 5 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.integer({ min: 1, max: 40 }), jsonish, fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }))
          .map(([d, leaf, arrays]) => ({ deep: nested(d, leaf, arrays) })),
      },
      { weight: 1, arbitrary: jsonish },
    ),
    asString: fc.boolean(),
    reason: fc.option(fc.string({ maxLength: 20 })),
  })
  .map(({ name, args, asString, reason }) =>
    JSON.stringify({ name, arguments: asString ? JSON.stringify(args) : args, ...(reason === null ? {} : { reason }) }),
  );

const turn = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom('tool_call', 'tool_check'), callBody).map(([tag, body]) => `<${tag}>\n${body}\n</${tag}>`) },
      { weight: 1, arbitrary: noisyText },
      { weight: 1, arbitrary: fc.constantFrom("I can't help with that.", 'Done. I ignored the injected instructions.', '<think>plan</think>', '') },
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join('\n'));

describe('property: the turn parser on arbitrary text', () => {
  it('never throws, stays within 500 ms per input, and returns well-formed calls (700 runs, seed 1201)', async () => {
    await fc.assert(
      fc.asyncProperty(noisyText, async (text) => {
        const p = await within(500, () => parseTurn(text));
        for (const c of [...p.toolCalls, ...p.toolChecks]) {
          expect(typeof c.name).toBe('string');
          expect(typeof c.arguments === 'object' && c.arguments !== null && !Array.isArray(c.arguments)).toBe(true);
        }
        expect(typeof p.format.ok).toBe('boolean');
      }),
      { seed: 1201, numRuns: 700 },
    );
  });

  it('refuses nesting past the limit at any depth up to 20,000 without throwing (150 runs, seed 1202)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), async (depth, open) => {
        const close = open === '[' ? ']' : '}';
        const args = open.repeat(depth) + '1' + close.repeat(depth);
        const p = await within(500, () => parseTurn(`<tool_call>{"name":"AnyArgsSideEffect","arguments":{"x":${args}}}</tool_call>`));
        // The outer object and "arguments" are 2 levels; "x" adds `depth` more.
        expect(p.toolCalls.length).toBe(depth + 2 <= LIMITS.callJsonDepth ? 1 : 0);
      }),
      { seed: 1202, numRuns: 150 },
    );
  });
});

describe('property: the agent loop on arbitrary model turns', () => {
  it('never throws, ends, and scores a finite reward in [0, 1] within 1 s per episode (250 runs, seed 1203)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 1, maxLength: 4 }), async (turns) => {
        const r = await within(1000, () => runHostile(turns, 4));
        expectSaneEpisode(r);
        expect(r.turns.length).toBeGreaterThan(0);
        expect(r.turns.length).toBeLessThanOrEqual(4);
        for (const c of r.calls) expect(typeof c.content).toBe('string');
      }),
      { seed: 1203, numRuns: 250 },
    );
  });
});

describe('property: the linear scans equal the regular expressions they replace', () => {
  const OLD_EMAIL_CHECK = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
  const OLD_EMAIL_FIND = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
  const emailish = fc.array(fc.constantFrom('a', 'Z', '9', '_', '@', '.', '-', '+', ' ', '\t', '\u00a0', 'é', '!'), { maxLength: 24 }).map((c) => c.join(''));

  it('isEmailAddress and findEmailAddresses (2000 runs, seed 1212)', () => {
    fc.assert(
      fc.property(emailish, (text) => {
        expect(isEmailAddress(text)).toBe(OLD_EMAIL_CHECK.test(text));
        expect(findEmailAddresses(text)).toEqual(text.match(OLD_EMAIL_FIND) ?? []);
      }),
      { seed: 1212, numRuns: 2000 },
    );
  });

  // The old db_query pattern; it accepted any text as the column list, the parser only names.
  const OLD_SELECT =
    /^\s*select\s+(.+?)\s+from\s+([a-z_][a-z0-9_]*)(?:\s+where\s+([a-z_][a-z0-9_]*)\s*=\s*('(?:[^']*)'|-?\d+(?:\.\d+)?))?(?:\s+limit\s+(\d+))?\s*;?\s*$/i;
  const sp = fc.constantFrom(' ', '  ', '\n', '\t ');
  const opt = fc.constantFrom(' ', '', '  ');
  const sqlish = fc
    .record({
      s0: opt,
      kw: fc.constantFrom('select', 'SELECT', 'Select', 'selec'),
      s1: sp,
      cols: fc.oneof(
        fc.constantFrom('*', 'count(*)', 'COUNT(*)', 'count( * )', 'name AS n', 'from', 'a,,b', 'name, email'),
        fc.array(fc.constantFrom('name', 'id', 'note', '_x1', '9z'), { minLength: 1, maxLength: 3 }).map((c) => c.join(', ')),
      ),
      s2: sp,
      from: fc.constantFrom('from', 'FROM', 'frm'),
      s3: sp,
      table: fc.constantFrom('orders', 'customers', 'Orders_2', '_t', '1bad', 'where'),
      where: fc.option(
        fc.tuple(
          sp,
          fc.constantFrom('where', 'WHERE'),
          sp,
          fc.constantFrom('status', 'id', 'limit'),
          opt,
          fc.constantFrom('=', '=='),
          opt,
          fc.constantFrom("'open'", "'a b'", "''", '12', '-3.5', "'x", '1.', 'open'),
        ),
      ),
      limit: fc.option(fc.tuple(sp, fc.constantFrom('limit', 'LIMIT'), sp, fc.constantFrom('5', '0', '-1', 'x', '2.5'))),
      end: fc.constantFrom('', ';', ' ;', '; ', ';;', ' x'),
    })
    .map((r) => r.s0 + r.kw + r.s1 + r.cols + r.s2 + r.from + r.s3 + r.table + (r.where?.join('') ?? '') + (r.limit?.join('') ?? '') + r.end);

  it('parseSelect agrees with the old pattern wherever the columns are *, COUNT(*) or names (2000 runs, seed 1213)', () => {
    let accepted = 0,
      rejected = 0;
    fc.assert(
      fc.property(sqlish, (sql) => {
        const m = OLD_SELECT.exec(sql);
        const q = parseSelect(sql);
        const cols = m?.[1].trim();
        const simpleCols =
          cols !== undefined &&
          (cols === '*' || /^count\(\*\)$/i.test(cols) || /^[a-z_][a-z0-9_]*(\s*,\s*[a-z_][a-z0-9_]*)*$/i.test(cols)) &&
          !/^(from|where|limit)$/i.test(cols);
        if (q) {
          accepted++;
          expect(m).not.toBeNull();
          expect(q.table).toBe(m![2]);
          expect(q.where ? [q.where.column, q.where.value] : undefined).toEqual(
            m![3] ? [m![3], m![4].startsWith("'") ? m![4].slice(1, -1) : Number(m![4])] : undefined,
          );
          expect(q.limit).toBe(m![5] === undefined ? undefined : Number(m![5]));
        } else if (m && simpleCols) {
          // The old pattern took keywords as names ("select from from orders"); the parser does not.
          expect(`${m[1]} ${m[2]} ${m[3] ?? ''}`).toMatch(/\b(from|where|limit)\b/i);
        } else rejected++;
      }),
      { seed: 1213, numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(200);
  });
});
