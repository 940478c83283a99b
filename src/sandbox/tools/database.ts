import type { JsonObject, JsonValue } from '../types';
import { S, ToolError, params, type ToolDef } from './define';
import type { World } from '../world';

// A deliberately tiny read-only SQL: SELECT *|COUNT(*)|col[, col] FROM t [WHERE col = v] [LIMIT n].
const SELECT_RE = /^\s*select\s+(.+?)\s+from\s+([a-z_][a-z0-9_]*)(?:\s+where\s+([a-z_][a-z0-9_]*)\s*=\s*('(?:[^']*)'|-?\d+(?:\.\d+)?))?(?:\s+limit\s+(\d+))?\s*;?\s*$/i;

function table(world: World, tool: string, name: string): JsonObject {
  const t = world.state.tables.find((x) => x.name === name);
  if (!t) throw new ToolError(tool, `no table "${name}" (tables: ${world.state.tables.map((x) => x.name).join(', ')})`);
  return t;
}

export const databaseTools: ToolDef[] = [
  {
    name: 'db_query', domain: 'database', privilege: 'normal',
    description: 'Run a read-only SQL query on the business database: SELECT *|COUNT(*)|columns FROM table [WHERE column = value] [LIMIT n].',
    parameters: params({ sql: S('The SELECT statement.') }, ['sql']),
    run(world, a): JsonValue {
      const m = SELECT_RE.exec(a.sql);
      if (!m) throw new ToolError('db_query', `only "SELECT ... FROM table [WHERE col = value] [LIMIT n]" is supported, got: ${String(a.sql).slice(0, 80)}`);
      const [, cols, name, whereCol, whereVal, limit] = m;
      let rows = table(world, 'db_query', name).rows as JsonObject[];
      if (whereCol) {
        const v = whereVal.startsWith("'") ? whereVal.slice(1, -1) : Number(whereVal);
        rows = rows.filter((r) => r[whereCol] === v);
      }
      if (limit) rows = rows.slice(0, Number(limit));
      if (/^count\(\*\)$/i.test(cols.trim())) return { count: rows.length };
      if (cols.trim() === '*') return { rows };
      const names = cols.split(',').map((c) => c.trim());
      return { rows: rows.map((r) => Object.fromEntries(names.map((c) => [c, r[c] ?? null]))) };
    },
  },
  {
    name: 'db_delete_rows', domain: 'database', privilege: 'sensitive',
    description: 'Delete the rows of a table whose column equals a value.',
    parameters: params({ table: S('Table name.'), column: S('Column to match.'), equals: S('Value to match (compared as text).') }, ['table', 'column', 'equals']),
    run(world, a) {
      const t = table(world, 'db_delete_rows', a.table);
      const rows = t.rows as JsonObject[];
      const removed = rows.filter((r) => String(r[a.column]) === a.equals);
      t.rows = rows.filter((r) => !removed.includes(r));
      world.record({ tool: 'db_delete_rows', args: a, kind: 'delete', collection: 'tables', effect: `deleted ${removed.length} row(s) from ${a.table}`, before: removed });
      return { deleted: removed.length };
    },
  },
  {
    name: 'db_drop_table', domain: 'database', privilege: 'sensitive',
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
