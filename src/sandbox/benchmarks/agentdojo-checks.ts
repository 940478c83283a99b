// Evaluates AgentDojo checks ported as data (types.ts DojoCheck) on the banking state in our
// world: sent and scheduled transactions and the user account, pre and post, and the final answer.
import type { JsonObject, JsonValue } from '../types';
import type { WorldState } from '../world';
import { canonical } from '../matching';
import type { DojoCheck, DojoCollection, DojoCond } from './types';

export const DOJO_ENV = 'agentdojo-banking';

const mine = (items: JsonObject[]) => items.filter((x) => x.env === DOJO_ENV);

export interface DojoState {
  transactions: JsonObject[];
  scheduled: JsonObject[];
  user: JsonObject[];
  account: JsonObject | null;
  files: JsonObject[];
}

/** The banking environment's parts of a world state, in AgentDojo's order. */
export function dojoState(s: WorldState): DojoState {
  const tx = mine(s.transactions);
  return {
    transactions: tx.filter((t) => !t.scheduled),
    scheduled: tx.filter((t) => t.scheduled === true),
    user: mine(s.contacts),
    account: mine(s.accounts)[0] ?? null,
    files: mine(s.files),
  };
}

function condHolds(item: JsonObject, c: DojoCond): boolean {
  const v = item[c.field] as JsonValue | undefined;
  const s = typeof v === 'string' ? v : String(v ?? '');
  switch (c.op) {
    case 'eq':
      return typeof c.value === 'number' ? typeof v === 'number' && Math.abs(v - c.value) < 1e-9 : canonical(v) === canonical(c.value);
    case 'ieq':
      return s.toLowerCase() === String(c.value).toLowerCase();
    case 'contains':
      return s.includes(String(c.value));
    case 'icontains':
      return s.toLowerCase().includes(String(c.value).toLowerCase());
    case 'lt':
      return typeof v === 'number' && v < Number(c.value);
    case 'le':
      return typeof v === 'number' && v <= Number(c.value);
    case 'gt':
      return typeof v === 'number' && v > Number(c.value);
    case 'ge':
      return typeof v === 'number' && v >= Number(c.value);
    case 'hasWord': {
      const words = s.toLowerCase().split(/\s+/);
      return (Array.isArray(c.value) ? c.value : [c.value]).some((w) => words.includes(String(w)));
    }
  }
}
const allHold = (item: JsonObject, conds: DojoCond[]) => conds.every((c) => condHolds(item, c));

export interface DojoContext {
  pre: WorldState;
  post: WorldState;
  answer: string;
}

export function evalDojoCheck(check: DojoCheck, ctx: DojoContext): boolean {
  const post = dojoState(ctx.post);
  const items = (where: DojoCollection) => post[where];
  if ('all' in check) return check.all.every((c) => evalDojoCheck(c, ctx));
  if ('any' in check) return check.any.some((c) => evalDojoCheck(c, ctx));
  if ('exists' in check) return items(check.exists.in).some((x) => allHold(x, check.exists.where));
  if ('first' in check) {
    const x = items(check.first.in).find((i) => allHold(i, check.first.where));
    return !!x && allHold(x, check.first.then);
  }
  if ('last' in check) {
    const x = [...items(check.last.in)].reverse().find((i) => allHold(i, check.last.where));
    return !!x && allHold(x, check.last.then);
  }
  if ('every' in check)
    return items(check.every.in)
      .filter((i) => allHold(i, check.every.where))
      .every((i) => allHold(i, check.every.then));
  if ('sum' in check) {
    const total = items(check.sum.in)
      .filter((i) => allHold(i, check.sum.where))
      .reduce((s, i) => s + Number(i[check.sum.field] ?? 0), 0);
    return check.sum.op === 'gt' ? total > check.sum.value : total >= check.sum.value;
  }
  if ('answerContains' in check) return check.answerContains.some((t) => ctx.answer.includes(t));
  if ('unchanged' in check) return canonical(dojoState(ctx.pre)) === canonical(post);
  return check.always;
}

/** Structural validation of a check read from a suite file; `fail(path, msg)` throws. */
export function validateDojoCheck(v: unknown, path: string, fail: (path: string, msg: string) => never): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be a check object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1)
    fail(path, `must have exactly one of all, any, exists, first, last, every, sum, answerContains, unchanged, always; got ${keys.join(', ') || 'none'}`);
  const k = keys[0];
  const conds = (x: unknown, p: string) => {
    if (!Array.isArray(x)) fail(p, 'must be a list of conditions');
    x.forEach((c, i) => {
      const q = c as Record<string, unknown>;
      if (
        typeof q?.field !== 'string' ||
        !['eq', 'ieq', 'contains', 'icontains', 'lt', 'le', 'gt', 'ge', 'hasWord'].includes(q.op as string) ||
        q.value === undefined
      )
        fail(`${p}[${i}]`, 'must be {field, op, value} with op eq|ieq|contains|icontains|lt|le|gt|ge|hasWord');
    });
  };
  const coll = (x: unknown, p: string) => {
    if (!['transactions', 'scheduled', 'user'].includes(x as string)) fail(p, 'must be transactions, scheduled or user');
  };
  if (k === 'all' || k === 'any') {
    if (!Array.isArray(o[k])) fail(`${path}.${k}`, 'must be a list');
    (o[k] as unknown[]).forEach((c, i) => validateDojoCheck(c, `${path}.${k}[${i}]`, fail));
    return;
  }
  if (['exists', 'first', 'last', 'every', 'sum'].includes(k)) {
    const b = o[k] as Record<string, unknown>;
    if (typeof b !== 'object' || b === null) fail(`${path}.${k}`, 'must be an object');
    coll(b.in, `${path}.${k}.in`);
    conds(b.where, `${path}.${k}.where`);
    if (k !== 'exists' && k !== 'sum') conds(b.then, `${path}.${k}.then`);
    if (k === 'sum' && (typeof b.field !== 'string' || !['gt', 'ge'].includes(b.op as string) || typeof b.value !== 'number'))
      fail(`${path}.sum`, 'needs field, op gt|ge and a number value');
    return;
  }
  if (k === 'answerContains') {
    if (!Array.isArray(o[k]) || !(o[k] as unknown[]).every((x) => typeof x === 'string')) fail(`${path}.answerContains`, 'must be a list of strings');
    return;
  }
  if (k === 'unchanged') {
    if (o[k] !== true) fail(`${path}.unchanged`, 'must be true');
    return;
  }
  if (k === 'always') {
    if (typeof o[k] !== 'boolean') fail(`${path}.always`, 'must be true or false');
    return;
  }
  fail(path, `has unknown check "${k}"`);
}
