// Every built-in tool: a happy path that checks its effect on the world, and bad arguments
// that must come back as error observations naming the tool and the argument.
import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS } from '../../src/sandbox/tools/index';
import { Sandbox } from '../../src/sandbox/sandbox';
import type { Scenario } from '../../src/sandbox/scenarios/types';
import type { World } from '../../src/sandbox/world';

function sandbox(): Sandbox {
  const scenario: Scenario = {
    id: 'tools-test',
    family: 'x',
    outputFamily: 'x',
    technique: 'x',
    split: 'custom',
    cell: 'BU-BT',
    expected: 'execute',
    user: 'test',
    tools: BUILTIN_TOOLS.map((t) => t.name),
    world: { seed: 7, patches: [] },
    userGoal: { description: 'x', requiredCalls: [], plan: [] },
    sensitiveActions: [],
  };
  return new Sandbox(scenario);
}

interface Case {
  args: Record<string, unknown>;
  check: (result: any, world: World) => void;
  bad: [Record<string, unknown>, RegExp][];
}

const CASES: Record<string, Case> = {
  email_search: {
    args: { query: '' },
    check: (r) => expect(r.emails.length).toBeGreaterThan(0),
    bad: [
      [{}, /"query" is required/],
      [{ query: 'a', folder: 'spam' }, /"folder" must be one of/],
      [{ query: 'a', limit: 0 }, /limit must be at least 1/],
    ],
  },
  email_read: {
    args: { email_id: 'em-1' },
    check: (r) => expect(r.id).toBe('em-1'),
    bad: [
      [{ email_id: 'em-404' }, /no email with id "em-404"/],
      [{ email_id: 3 }, /"email_id" must be string, got integer/],
    ],
  },
  email_send: {
    args: { to: ['a@example.com'], subject: 's', body: 'b' },
    check: (r, w) => {
      expect(r.status).toBe('sent');
      expect(w.changes.at(-1)!.kind).toBe('send');
      expect(w.state.emails.some((e) => e.folder === 'sent')).toBe(true);
    },
    bad: [
      [{ to: 'a@example.com', subject: 's', body: 'b' }, /"to" must be array, got string/],
      [{ to: ['not-an-address'], subject: 's', body: 'b' }, /is not an email address/],
      [{ to: [], subject: 's', body: 'b' }, /at least one recipient/],
      [{ to: ['a@b.co'], subject: 's' }, /"body" is required/],
    ],
  },
  email_delete: {
    args: { email_ids: ['em-1'] },
    check: (r, w) => {
      expect(r.deleted).toBe(1);
      expect(w.state.emails.some((e) => e.id === 'em-1')).toBe(false);
    },
    bad: [
      [{ email_ids: ['em-999'] }, /no email with id "em-999"/],
      [{ email_ids: [1] }, /"email_ids\[0\]" must be string/],
    ],
  },
  files_list: {
    args: { prefix: 'private/' },
    check: (r) => expect(r.files.map((f: any) => f.path)).toEqual(['private/passwords.txt']),
    bad: [[{}, /"prefix" is required/]],
  },
  files_read: {
    args: { path: 'notes/todo.txt' },
    check: (r) => expect(r.content).toContain('passport'),
    bad: [
      [{ path: 'nope.txt' }, /no file at "nope.txt"/],
      [{ path: 'a', extra: 1 }, /"extra" is not a parameter/],
    ],
  },
  files_write: {
    args: { path: 'notes/new.txt', content: 'hi' },
    check: (r, w) => {
      expect(w.state.files.find((f) => f.path === 'notes/new.txt')!.content).toBe('hi');
      expect(w.changes.at(-1)!.kind).toBe('create');
    },
    bad: [
      [{ path: ' ', content: 'x' }, /"path" is empty/],
      [{ path: 'a' }, /"content" is required/],
    ],
  },
  files_delete: {
    args: { path: 'notes/todo.txt' },
    check: (r, w) => expect(w.state.files.some((f) => f.path === 'notes/todo.txt')).toBe(false),
    bad: [[{ path: 'ghost.txt' }, /no file at "ghost.txt"/]],
  },
  files_share: {
    args: { path: 'notes/todo.txt', email: 'x@example.com', permission: 'view' },
    check: (r, w) => expect(w.state.files.find((f) => f.path === 'notes/todo.txt')!.shared_with).toContain('x@example.com (view)'),
    bad: [[{ path: 'notes/todo.txt', email: 'x@example.com', permission: 'owner' }, /"permission" must be one of "view", "edit"/]],
  },
  bank_get_balance: {
    args: { account: 'checking' },
    check: (r) => expect(typeof r.balance).toBe('number'),
    bad: [[{ account: 'crypto' }, /"account" must be one of/]],
  },
  bank_list_transactions: {
    args: { account: 'checking', limit: 2 },
    check: (r) => expect(r.transactions).toHaveLength(2),
    bad: [[{ account: 'checking', limit: 1.5 }, /"limit" must be integer, got number/]],
  },
  bank_transfer: {
    args: { from_account: 'savings', to_account: 'checking', amount: 100 },
    check: (r, w) => {
      expect(r.status).toBe('completed');
      expect(w.changes.at(-1)!.kind).toBe('transfer');
    },
    bad: [
      [{ from_account: 'checking', to_account: 'X', amount: -5 }, /"amount" must be greater than 0/],
      [{ from_account: 'checking', to_account: 'X', amount: 1e9 }, /insufficient funds/],
      [{ from_account: 'checking', to_account: 'X', amount: '100' }, /"amount" must be number, got string/],
    ],
  },
  calendar_list_events: { args: { date: '2026-03-02' }, check: (r) => expect(r.date).toBe('2026-03-02'), bad: [[{ date: 'tomorrow' }, /must be YYYY-MM-DD/]] },
  calendar_create_event: {
    args: { title: 'Lunch', date: '2026-03-03', start: '12:00', end: '13:00' },
    check: (r, w) => expect(w.state.events.some((e) => e.title === 'Lunch')).toBe(true),
    bad: [
      [{ title: 'x', date: '2026-03-03', start: 'noon', end: '13:00' }, /"start" and "end" must be HH:MM/],
      [{ title: 'x', date: '2026-03-03', start: '12:00' }, /"end" is required/],
    ],
  },
  calendar_delete_event: {
    args: { event_id: 'ev-1' },
    check: (r, w) => expect(w.state.events).toHaveLength(0),
    bad: [[{ event_id: 'ev-9' }, /no event with id "ev-9"/]],
  },
  contacts_search: {
    args: { query: '@example.com' },
    check: (r) => expect(r.contacts.length).toBe(8),
    bad: [[{ query: true }, /"query" must be string, got boolean/]],
  },
  contacts_add: {
    args: { name: 'Zed', email: 'zed@example.com' },
    check: (r, w) => expect(w.state.contacts.some((c) => c.name === 'Zed')).toBe(true),
    bad: [[{ name: 'Zed', email: 'zed' }, /not an email address/]],
  },
  web_search: {
    args: { query: 'library hours' },
    check: (r) => expect(r.results[0].url).toBe('https://news.example.com/today'),
    bad: [[{ q: 'x' }, /"query" is required/]],
  },
  web_fetch: {
    args: { url: 'https://news.example.com/today' },
    check: (r) => expect(r.content).toContain('library'),
    bad: [
      [{ url: 'ftp://x' }, /must start with http/],
      [{ url: 'https://missing.example' }, /404 not found/],
    ],
  },
  home_list_devices: { args: {}, check: (r) => expect(r.locks).toHaveLength(3), bad: [[{ room: 'x' }, /"room" is not a parameter/]] },
  home_set_lock: {
    args: { lock: 'front_door', state: 'unlocked' },
    check: (r, w) => expect(w.state.locks.find((l) => l.name === 'front_door')!.state).toBe('unlocked'),
    bad: [
      [{ lock: 'window', state: 'unlocked' }, /"lock" must be one of/],
      [{ lock: 'front_door', state: 'open' }, /"state" must be one of/],
    ],
  },
  home_set_camera: {
    args: { camera: 'porch', state: 'off' },
    check: (r, w) => expect(w.state.cameras.find((c) => c.name === 'porch')!.state).toBe('off'),
    bad: [[{ camera: 'porch' }, /"state" is required/]],
  },
  home_camera_recordings: {
    args: { camera: 'porch' },
    check: (r) => expect(r.recordings).toHaveLength(1),
    bad: [[{ camera: 'attic' }, /"camera" must be one of/]],
  },
  db_query: {
    args: { sql: "SELECT COUNT(*) FROM orders WHERE status = 'open'" },
    check: (r) => expect(r.count).toBe(2),
    bad: [
      [{ sql: 'DELETE FROM orders' }, /only "SELECT/],
      [{ sql: 'SELECT * FROM nope' }, /no table "nope"/],
    ],
  },
  db_delete_rows: {
    args: { table: 'orders', column: 'status', equals: 'shipped' },
    check: (r) => expect(r.deleted).toBe(2),
    bad: [[{ table: 'orders', column: 'status' }, /"equals" is required/]],
  },
  db_drop_table: {
    args: { table: 'staging_orders' },
    check: (r, w) => expect(w.state.tables.some((t) => t.name === 'staging_orders')).toBe(false),
    bad: [[{ table: 'users' }, /no table "users"/]],
  },
  social_read_dms: { args: {}, check: (r) => expect(r.messages).toHaveLength(1), bad: [[{ limit: 0 }, /limit must be at least 1/]] },
  social_send_dm: {
    args: { to: '@sam', text: 'hi' },
    check: (r, w) => expect(w.state.dms.at(-1)!.to).toBe('@sam'),
    bad: [[{ to: 'sam', text: 'hi' }, /must be a handle starting with @/]],
  },
  social_post: {
    args: { text: 'hello', visibility: 'friends' },
    check: (r, w) => expect(w.state.posts).toHaveLength(1),
    bad: [
      [{ text: '  ', visibility: 'public' }, /"text" is empty/],
      [{ text: 'x', visibility: 'everyone' }, /"visibility" must be one of/],
    ],
  },
  health_get_records: { args: { type: 'checkup' }, check: (r) => expect(r.records).toHaveLength(1), bad: [[{ type: 'xray' }, /"type" must be one of/]] },
  health_share_records: {
    args: { recipient_email: 'dr@example.com' },
    check: (r, w) => expect(w.state.health_shares).toHaveLength(1),
    bad: [[{ recipient_email: 'doctor' }, /not an email address/]],
  },
  health_book_appointment: {
    args: { provider: 'Dr. Rivera', date: '2026-04-01' },
    check: (r, w) => expect(w.state.appointments).toHaveLength(1),
    bad: [[{ provider: 'x', date: '04/01' }, /must be YYYY-MM-DD/]],
  },
};

describe('built-in tools', () => {
  it('covers at least 8 domains and 30 tools, each with a test case here', () => {
    expect(BUILTIN_TOOLS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(BUILTIN_TOOLS.map((t) => t.domain)).size).toBeGreaterThanOrEqual(8);
    expect(Object.keys(CASES).sort()).toEqual(BUILTIN_TOOLS.map((t) => t.name).sort());
    expect(BUILTIN_TOOLS.some((t) => t.privilege === 'sensitive')).toBe(true);
  });

  for (const tool of BUILTIN_TOOLS) {
    const c = CASES[tool.name];
    it(`${tool.name}: happy path`, () => {
      const sb = sandbox();
      const before = sb.world.changes.length;
      const obs = sb.execute(tool.name, c.args);
      expect(obs.ok, obs.content).toBe(true);
      c.check(JSON.parse(obs.content), sb.world);
      // Reads leave no trace; writes are logged with tool and args.
      for (const ch of sb.world.changes.slice(before)) {
        expect(ch.tool).toBe(tool.name);
        expect(ch.args).toEqual(c.args);
      }
    });
    it(`${tool.name}: bad arguments become error observations`, () => {
      for (const [args, msg] of c.bad) {
        const sb = sandbox();
        const obs = sb.execute(tool.name, args);
        expect(obs.ok).toBe(false);
        expect(obs.error).toMatch(msg);
        expect(obs.error).toContain(tool.name);
        expect(JSON.parse(obs.content).error).toBe(obs.error);
      }
    });
  }

  it('rejects unknown tools and non-object arguments without throwing', () => {
    const sb = sandbox();
    expect(sb.execute('rm_rf', {}).error).toMatch(/unknown tool "rm_rf"/);
    expect(sb.execute('email_search', [1, 2]).error).toMatch(/must be a JSON object, got array/);
    expect(sb.execute('email_search', null).error).toMatch(/got null/);
  });

  it('is deterministic from the seed and records pre/post state', () => {
    const a = sandbox(),
      b = sandbox();
    expect(a.world.snapshot()).toEqual(b.world.snapshot());
    a.execute('bank_transfer', { from_account: 'checking', to_account: 'savings', amount: 10 });
    expect(a.preState).toEqual(b.preState);
    const pre = a.preState.accounts.find((x) => x.id === 'checking')!.balance as number;
    expect(a.world.snapshot().accounts.find((x) => x.id === 'checking')!.balance).toBe(pre - 10);
    expect(a.world.changes[0]).toMatchObject({ tool: 'bank_transfer', kind: 'transfer', before: { balance: pre } });
  });
});
