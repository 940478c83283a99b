// Minimal flag parsing for the CLI: --name value, --name=value, and boolean --name. Paths are
// checked here too, before a command spends minutes working, so a bad one is one line, exit 2.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class CliError extends Error {}

export type Flags = Map<string, string | true>;

export function parseFlags(args: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new CliError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
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
  if (v === undefined) {
    if (required) throw new CliError(`missing --${name}`);
    return undefined;
  }
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
  const ids = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (ids.length === 0 || ids.some((n) => !Number.isInteger(n) || n < 0))
    throw new CliError(`--${name} must be comma-separated non-negative integers, got "${v}"`);
  return ids;
}

/** A file the command will write: its folder must exist now (not after a long eval or training run). */
export function outputFileFlag(flags: Flags, name: string, required: true): string;
export function outputFileFlag(flags: Flags, name: string, required?: false): string | undefined;
export function outputFileFlag(flags: Flags, name: string, required = false): string | undefined {
  const path = stringFlag(flags, name, required as true);
  if (path === undefined) return undefined;
  const dir = dirname(resolve(path));
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) throw new CliError(`--${name} ${path}: the folder ${dir} does not exist`);
  if (!st.isDirectory()) throw new CliError(`--${name} ${path}: ${dir} is not a folder`);
  const target = statSync(path, { throwIfNoEntry: false });
  if (target?.isDirectory()) throw new CliError(`--${name} ${path} is a folder; give a file name`);
  return path;
}

/** A folder the command will read: it must exist and be a folder. */
export function inputDirFlag(flags: Flags, name: string): string | undefined {
  const path = stringFlag(flags, name);
  if (path === undefined) return undefined;
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new CliError(`--${name} ${path}: no such folder`);
  if (!st.isDirectory()) throw new CliError(`--${name} ${path} is not a folder`);
  return path;
}

/** A filesystem error (ENOENT, EACCES, ...) as one sentence naming the path, or null for other errors. */
export function describeFileError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return null;
  const what: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a folder, not a file',
    ENOTDIR: 'a part of the path is not a folder',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
    EEXIST: 'already exists',
    EMFILE: 'too many open files',
    ENAMETOOLONG: 'the name is too long',
  };
  const path = typeof e.path === 'string' ? `${e.path}: ` : '';
  return `${path}${what[e.code] ?? e.code}${e.syscall ? ` (${e.syscall})` : ''}`;
}

/** Reads a text input file, refusing one over `maxBytes` before reading it; errors name `what` and the path. */
export function readTextFile(path: string, what: string, maxBytes: number): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new CliError(`cannot read ${what} ${path}: no such file or folder`);
  if (st.isDirectory()) throw new CliError(`cannot read ${what} ${path}: it is a folder, not a file`);
  if (st.size > maxBytes) throw new CliError(`${what} ${path} is ${st.size} bytes, over the limit of ${maxBytes}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${describeFileError(e) ?? `${path}: ${(e as Error).message}`}`);
  }
}
