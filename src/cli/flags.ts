// Minimal flag parsing for the CLI: --name value, --name=value, and boolean --name.

export class CliError extends Error {}

export type Flags = Map<string, string | true>;

export function parseFlags(args: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new CliError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) { flags.set(arg.slice(2, eq), arg.slice(eq + 1)); continue; }
    const name = arg.slice(2);
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(name, next);
      i++;
      // Extra values stay with their flag: `--import injecagent FILE` → import = 'injecagent', import[1] = 'FILE'.
      for (let k = 1; args[i + 1] !== undefined && !args[i + 1].startsWith('--'); k++) flags.set(`${name}[${k}]`, args[++i]);
    } else flags.set(name, true);
  }
  return flags;
}

export function stringFlag(flags: Flags, name: string, required: true): string;
export function stringFlag(flags: Flags, name: string, required?: false): string | undefined;
export function stringFlag(flags: Flags, name: string, required = false): string | undefined {
  const v = flags.get(name);
  if (v === undefined) { if (required) throw new CliError(`missing --${name}`); return undefined; }
  if (v === true) throw new CliError(`--${name} needs a value`);
  return v;
}

export function numberFlag(flags: Flags, name: string, fallback?: number): number | undefined {
  const v = stringFlag(flags, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function boolFlag(flags: Flags, name: string): boolean {
  const v = flags.get(name);
  if (v === undefined) return false;
  if (v === true) return true;
  throw new CliError(`--${name} takes no value`);
}

export function oneOf<T extends string>(flags: Flags, name: string, allowed: readonly T[], fallback?: T): T | undefined {
  const v = stringFlag(flags, name);
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new CliError(`--${name} must be one of ${allowed.join('|')}, got "${v}"`);
  return v as T;
}

export function idsFlag(flags: Flags, name: string, required = true): number[] | undefined {
  const v = stringFlag(flags, name, required as true);
  if (v === undefined) return undefined;
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0)) throw new CliError(`--${name} must be comma-separated non-negative integers, got "${v}"`);
  return ids;
}
