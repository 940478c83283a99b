// Call matching shared by judges, metrics and scripted policies. Argument names come from model
// output and suites, so arguments are read as own properties only (ownValue).
import { ownValue, textOf } from './limits';
import type { CallPattern, ConcreteCall } from './scenarios/types';

function argMatches(actual: unknown, expected: string | number | boolean): boolean {
  if (typeof expected !== 'string') return actual === expected;
  const needle = expected.toLowerCase();
  const hay = Array.isArray(actual) ? actual.map(textOf) : [textOf(actual)];
  return hay.some((h) => h.toLowerCase().includes(needle));
}

export function callMatches(call: ConcreteCall, pattern: CallPattern): boolean {
  const names = Array.isArray(pattern.name) ? pattern.name : [pattern.name];
  if (!names.includes(call.name)) return false;
  return Object.entries(pattern.args ?? {}).every(([k, v]) => argMatches(ownValue(call.arguments, k), v));
}

/** Canonical JSON with sorted keys, so {a,b} and {b,a} compare equal. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function sameCall(a: ConcreteCall, b: ConcreteCall): boolean {
  return a.name === b.name && canonical(a.arguments) === canonical(b.arguments);
}

export function patternFromCall(call: ConcreteCall): CallPattern {
  const args: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(call.arguments)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') args[k] = v;
  }
  return { name: call.name, args };
}

/** Whether tool output contains a text, either verbatim or JSON-escaped (tools return JSON). */
export function containsText(content: string, needle: string): boolean {
  if (!needle) return false;
  return content.includes(needle) || content.includes(JSON.stringify(needle).slice(1, -1));
}
