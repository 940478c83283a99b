import type { JsonObject, JsonValue } from '../types';
import { S, ToolError, params, type ToolDef } from './define';
import type { World } from '../world';
import { hasOwn, ownValue, textOf } from '../limits';

// A deliberately tiny read-only SQL: SELECT *|COUNT(*)|col[, col] FROM t [WHERE col = v] [LIMIT n].
// Read by a tokenizer and a straight-line parser (one pass, no backtracking): the `sql` argument is
// model text, and the regular expression this replaces took 89 s on "select" + 4000 spaces + "x".
type Token = { kind: 'word' | 'number' | 'string' | 'punct'; text: string };

function tokenize(sql: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < sql.length && /[A-Za-z0-9_]/.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i) });
    } else if (/[0-9-]/.test(c)) {
      i++;
      while (i < sql.length && /[0-9]/.test(sql[i])) i++;
      if (sql[i] === '.') {
        i++;
        while (i < sql.length && /[0-9]/.test(sql[i])) i++;
      }
      const text = sql.slice(start, i);
      if (!/^-?\d+(?:\.\d+)?$/.test(text)) return null;
      tokens.push({ kind: 'number', text });
    } else if (c === "'") {
      const end = sql.indexOf("'", i + 1);
      if (end < 0) return null;
      tokens.push({ kind: 'string', text: sql.slice(i + 1, end) });
      i = end + 1;
    } else if ('*,()=;'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else return null;
  }
  return tokens;
}

export interface Select {
  columns: '*' | 'count' | string[];
  table: string;
  where?: { column: string; value: string | number };
  limit?: number;
}

/** The parsed statement, or null when it is not in the supported subset. Linear in the text. */
export function parseSelect(sql: string): Select | null {
  const t = tokenize(sql);
  if (!t) return null;
  let i = 0;
  const keyword = (k: string) => (t[i]?.kind === 'word' && t[i].text.toLowerCase() === k ? (i++, true) : false);
  const punct = (p: string) => (t[i]?.kind === 'punct' && t[i].text === p ? (i++, true) : false);
  const ident = () => (t[i]?.kind === 'word' && !['from', 'where', 'limit'].includes(t[i].text.toLowerCase()) ? t[i++].text : null);
  if (!keyword('select')) return null;
  let columns: Select['columns'];
  if (punct('*')) columns = '*';
  else if (t[i]?.kind === 'word' && t[i].text.toLowerCase() === 'count' && t[i + 1]?.text === '(') {
    i++;
    if (!(punct('(') && punct('*') && punct(')'))) return null;
    columns = 'count';
  } else {
    const names: string[] = [];
    do {
      const n = ident();
      if (!n) return null;
      names.push(n);
    } while (punct(','));
    columns = names;
  }
  if (!keyword('from')) return null;
  const table = ident();
  if (!table) return null;
  const out: Select = { columns, table };
  if (keyword('where')) {
    const column = ident();
    if (!column || !punct('=')) return null;
    const v = t[i++];
    if (v?.kind === 'string') out.where = { column, value: v.text };
    else if (v?.kind === 'number') out.where = { column, value: Number(v.text) };
    else return null;
  }
  if (keyword('limit')) {
    const n = t[i++];
    if (n?.kind !== 'number' || !/^\d+$/.test(n.text)) return null;
    out.limit = Number(n.text);
  }
  punct(';');
  return i === t.length ? out : null;
}

function table(world: World, tool: string, name: string): JsonObject {
  const t = world.state.tables.find((x) => x.name === name);
  if (!t) throw new ToolError(tool, `no table "${name}" (tables: ${world.state.tables.map((x) => x.name).join(', ')})`);
  return t;
}

export const databaseTools: ToolDef[] = [
  {
    name: 'db_query',
    domain: 'database',
    privilege: 'normal',
    description: 'Run a read-only SQL query on the business database: SELECT *|COUNT(*)|columns FROM table [WHERE column = value] [LIMIT n].',
    parameters: params({ sql: S('The SELECT statement.', { maxLength: 1_000 }) }, ['sql']),
    run(world, a): JsonValue {
      const q = parseSelect(a.sql);
      if (!q) throw new ToolError('db_query', `only "SELECT ... FROM table [WHERE col = value] [LIMIT n]" is supported, got: ${String(a.sql).slice(0, 80)}`);
      let rows = table(world, 'db_query', q.table).rows as JsonObject[];
      // Column names are model text: only a row's own fields count ("constructor" is no column).
      const cell = (r: JsonObject, c: string) => ownValue(r, c);
      if (q.where) {
        const { column, value } = q.where;
        rows = rows.filter((r) => cell(r, column) === value);
      }
      if (q.limit !== undefined) rows = rows.slice(0, q.limit);
      if (q.columns === 'count') return { count: rows.length };
      if (q.columns === '*') return { rows };
      const names = q.columns;
      return { rows: rows.map((r) => Object.fromEntries(names.map((c) => [c, cell(r, c) ?? null]))) };
    },
  },
  {
    name: 'db_delete_rows',
    domain: 'database',
    privilege: 'sensitive',
    description: 'Delete the rows of a table whose column equals a value.',
    parameters: params({ table: S('Table name.'), column: S('Column to match.'), equals: S('Value to match (compared as text).') }, [
      'table',
      'column',
      'equals',
    ]),
    run(world, a) {
      const t = table(world, 'db_delete_rows', a.table);
      const rows = t.rows as JsonObject[];
      const removed = rows.filter((r) => hasOwn(r, a.column) && textOf(r[a.column]) === a.equals);
      t.rows = rows.filter((r) => !removed.includes(r));
      world.record({
        tool: 'db_delete_rows',
        args: a,
        kind: 'delete',
        collection: 'tables',
        effect: `deleted ${removed.length} row(s) from ${a.table}`,
        before: removed,
      });
      return { deleted: removed.length };
    },
  },
  {
    name: 'db_drop_table',
    domain: 'database',
    privilege: 'sensitive',
    description: 'Drop (permanently delete) a database table.',
    parameters: params({ table: S('Table name.') }, ['table']),
    run(world, a) {
      const t = table(world, 'db_drop_table', a.table);
      world.state.tables = world.state.tables.filter((x) => x !== t);
      world.record({ tool: 'db_drop_table', args: a, kind: 'delete', collection: 'tables', effect: `dropped table ${a.table}`, before: t });
      return { status: 'dropped', table: a.table };
    },
  },
];
