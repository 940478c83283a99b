// `scenarios --import bfcl|asb|agentdojo DIR_OR_FILES...`: reads the benchmark's released files
// (folders are walked; .json, .jsonl, .yaml, .yml and .py files are read) and imports them with
// the benchmark's importer (src/sandbox/benchmarks). Errors name the file, record and field.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { importBenchmark, type BenchmarkImport } from '../sandbox/benchmarks/import';
import type { SourceFile } from '../sandbox/benchmarks/common';
import { ASB_SETTINGS, ASB_VARIANTS, type AsbSetting, type AsbVariant, type BenchmarkKind } from '../sandbox/benchmarks/types';
import { LIMITS } from '../sandbox/limits';
import { CliError, stringFlag, type Flags } from './flags';

const why = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export const BENCHMARK_FLAGS = ['tasks-per-agent', 'settings', 'variants', 'model-name', 'user-name'] as const;
const READ = /\.(jsonl?|ya?ml|py)$/i;

/** The paths after `--import KIND`: the flag parser keeps them as import[1], import[2], ... */
export function importPaths(flags: Flags): string[] {
  const out: string[] = [];
  for (let k = 1; typeof flags.get(`import[${k}]`) === 'string'; k++) out.push(flags.get(`import[${k}]`) as string);
  return out;
}

function readSources(paths: string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const visit = (path: string, top: boolean) => {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${why(e)}`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name), false);
      return;
    }
    if (!top && !READ.test(path)) return;
    if (st.size > LIMITS.suiteChars) throw new CliError(`${path} is ${st.size} bytes, over the limit of ${LIMITS.suiteChars}`);
    try {
      files.push({ name: path, text: readFileSync(path, 'utf8') });
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${why(e)}`);
    }
  };
  for (const p of paths) visit(p, true);
  return files;
}

function listFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T[] | undefined {
  const v = stringFlag(flags, name);
  if (v === undefined) return undefined;
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const badItem = items.find((i) => !allowed.includes(i as T));
  if (badItem !== undefined || !items.length) throw new CliError(`--${name} takes a comma-separated list of ${allowed.join(', ')}, got "${v}"`);
  return items as T[];
}

export function importBenchmarkFromFlags(kind: BenchmarkKind, flags: Flags): BenchmarkImport {
  const paths = importPaths(flags);
  if (!paths.length) throw new CliError(`--import ${kind} needs the benchmark's files or folder: --import ${kind} DIR_OR_FILES`);
  const stray = BENCHMARK_FLAGS.find(
    (f) =>
      flags.has(f) && !(kind === 'asb' ? ['tasks-per-agent', 'settings', 'variants'] : kind === 'agentdojo' ? ['model-name', 'user-name'] : []).includes(f),
  );
  if (stray) throw new CliError(`--${stray} does not apply to --import ${kind}`);
  let tasksPerAgent: number | 'all' | undefined;
  const t = stringFlag(flags, 'tasks-per-agent');
  if (t !== undefined) {
    tasksPerAgent = t === 'all' ? 'all' : Number(t);
    if (tasksPerAgent !== 'all' && !(Number.isInteger(tasksPerAgent) && tasksPerAgent >= 1))
      throw new CliError(`--tasks-per-agent must be a positive integer or "all", got "${t}"`);
  }
  return importBenchmark(kind, readSources(paths), {
    asb: { tasksPerAgent, settings: listFlag<AsbSetting>(flags, 'settings', ASB_SETTINGS), variants: listFlag<AsbVariant>(flags, 'variants', ASB_VARIANTS) },
    agentdojo: { modelName: stringFlag(flags, 'model-name'), userName: stringFlag(flags, 'user-name') },
  });
}
