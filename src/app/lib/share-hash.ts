// Attack Lab state in the URL hash (#lab=<base64url JSON>), to share a scenario. Reading it only
// fills the form: nothing runs until the user clicks Run. Everything is validated, because a
// shared link is attacker-controlled input.
import { CELLS, type Cell } from '../../sandbox/index';
import type { AttackDecl, ScenarioEdits } from './scenario-edit';

export const POLICY_NAMES = ['model', 'comply', 'refuse', 'oracle'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface SharedLabState {
  split: 'train' | 'test';
  id: string;
  edits: ScenarioEdits;
  policies: [PolicyName, PolicyName];
  /** The grid cell the picker was filtered to. */
  cell?: Cell;
  /** The model loaded when the link was made (a note for the reader; nothing is loaded). */
  model?: string;
}

const MAX_HASH = 60_000;
const MAX_TEXT = 20_000;

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function encodeLabHash(state: SharedLabState): string {
  return `#lab=${toBase64Url(JSON.stringify({ v: 1, ...state }))}`;
}

type Decoded = { ok: true; state: SharedLabState } | { ok: false; error: string } | { ok: false; error: null };

const isText = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;

/** Parses a location hash. `error: null` means the hash holds no shared lab state at all. */
export function decodeLabHash(hash: string): Decoded {
  if (!hash.startsWith('#lab=')) return { ok: false, error: null };
  const payload = hash.slice(5);
  if (payload.length > MAX_HASH) return { ok: false, error: `shared link is too long (${payload.length} characters, at most ${MAX_HASH})` };
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) return { ok: false, error: 'shared link is not valid base64url' };
  let raw: unknown;
  try {
    raw = JSON.parse(fromBase64Url(payload));
  } catch {
    return { ok: false, error: 'shared link does not contain valid JSON' };
  }
  const fail = (field: string, what: string) => ({ ok: false as const, error: `shared link: "${field}" ${what}` });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'shared link: expected a JSON object' };
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) return fail('v', 'must be 1');
  if (o.split !== 'train' && o.split !== 'test') return fail('split', 'must be "train" or "test"');
  if (!isText(o.id, 100) || !/^[A-Za-z0-9_.+-]+$/.test(o.id)) return fail('id', 'must be a scenario id');
  const pol = o.policies;
  if (!Array.isArray(pol) || pol.length !== 2 || !pol.every((p) => (POLICY_NAMES as readonly unknown[]).includes(p)))
    return fail('policies', `must be two of ${POLICY_NAMES.join(', ')}`);
  const e = o.edits as Record<string, unknown> | undefined;
  if (typeof e !== 'object' || e === null) return fail('edits', 'must be an object');
  if (e.user !== undefined && !isText(e.user)) return fail('edits.user', `must be text of at most ${MAX_TEXT} characters`);
  if (!Array.isArray(e.patchEdits) || e.patchEdits.length > 50) return fail('edits.patchEdits', 'must be a list of at most 50 edits');
  for (const [i, p] of (e.patchEdits as unknown[]).entries()) {
    const pe = p as Record<string, unknown>;
    if (!Number.isInteger(pe?.patch) || (pe.patch as number) < 0 || !isText(pe.field, 40) || !/^[a-z_]+$/.test(pe.field) || !isText(pe.value))
      return fail(`edits.patchEdits[${i}]`, 'must be {patch: index, field: name, value: text}');
  }
  if (!Array.isArray(e.toolOverrides) || e.toolOverrides.length > 50) return fail('edits.toolOverrides', 'must be a list of at most 50 overrides');
  for (const [i, t] of (e.toolOverrides as unknown[]).entries()) {
    const to = t as Record<string, unknown>;
    if (!isText(to?.tool, 64) || !/^[A-Za-z0-9_]+$/.test(to.tool) || !isText(to.response))
      return fail(`edits.toolOverrides[${i}]`, 'must be {tool: name, response: text}');
  }
  const attacks: AttackDecl[] = [];
  if (e.attacks !== undefined) {
    if (!Array.isArray(e.attacks) || e.attacks.length > 8) return fail('edits.attacks', 'must be a list of at most 8 attacker goals');
    for (const [i, a] of (e.attacks as unknown[]).entries()) {
      const d = a as Record<string, unknown>;
      if (d && isText(d.preset, 40) && /^[a-z-]+$/.test(d.preset)) attacks.push({ preset: d.preset });
      else if (
        d &&
        isText(d.tool, 64) &&
        /^[A-Za-z0-9_]+$/.test(d.tool) &&
        (d.argText === undefined || isText(d.argText, 500)) &&
        (d.goal === undefined || isText(d.goal, 500))
      ) {
        attacks.push({ tool: d.tool, argText: d.argText as string | undefined, goal: d.goal as string | undefined });
      } else return fail(`edits.attacks[${i}]`, 'must be {preset: id} or {tool: name, argText?: text, goal?: text}');
    }
  }
  if (o.cell !== undefined && !(CELLS as readonly unknown[]).includes(o.cell)) return fail('cell', `must be one of ${CELLS.join(', ')}`);
  if (o.model !== undefined && !isText(o.model, 200)) return fail('model', 'must be text of at most 200 characters');
  return {
    ok: true,
    state: {
      split: o.split,
      id: o.id,
      policies: [pol[0], pol[1]] as [PolicyName, PolicyName],
      ...(o.cell !== undefined ? { cell: o.cell as Cell } : {}),
      ...(o.model !== undefined ? { model: o.model as string } : {}),
      edits: {
        user: e.user as string | undefined,
        patchEdits: (e.patchEdits as { patch: number; field: string; value: string }[]).map((p) => ({ patch: p.patch, field: p.field, value: p.value })),
        toolOverrides: (e.toolOverrides as { tool: string; response: string }[]).map((t) => ({ tool: t.tool, response: t.response })),
        ...(attacks.length ? { attacks } : {}),
      },
    },
  };
}
