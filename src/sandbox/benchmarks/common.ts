// Shared by the benchmark importers: reading JSON or JSON Lines (linear in the file size, with
// the line of each record kept for errors), field checks whose errors name the file, the record
// and the field, and tool-name sanitising.
import { SuiteError } from '../scenarios/suite-format';

export { SuiteError as BenchmarkImportError };

/** A file given to an importer: its name (path) and text. */
export interface SourceFile { name: string; text: string }

export interface SourceRecord { value: unknown; where: string }

/** Records of a JSON array file or a JSON Lines file (BFCL's ".json" files are JSON Lines). */
export function readRecords(file: SourceFile): SourceRecord[] {
  const text = file.text.replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === '[') {
    let json: unknown;
    try { json = JSON.parse(text); } catch (e) { throw new SuiteError(`${file.name}: not valid JSON (${(e as Error).message})`); }
    return (json as unknown[]).map((value, i) => ({ value, where: `${file.name}: record ${i}` }));
  }
  const out: SourceRecord[] = [];
  let start = 0, line = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const row = text.slice(start, end).trim();
    if (row) {
      try { out.push({ value: JSON.parse(row), where: `${file.name}: line ${line}` }); } catch (e) { throw new SuiteError(`${file.name}: line ${line} is not valid JSON (${(e as Error).message})`); }
    }
    start = end + 1;
  }
  if (!out.length) throw new SuiteError(`${file.name}: has no records`);
  return out;
}

export function parseJsonFile(file: SourceFile): unknown {
  try { return JSON.parse(file.text.replace(/^\uFEFF/, '')); } catch (e) { throw new SuiteError(`${file.name}: not valid JSON (${(e as Error).message})`); }
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field checks for one record; errors read `FILE: line N (id "x"): "field" must be ...`. */
export class RecordChecker {
  constructor(public where: string) {}
  fail(field: string, msg: string): never { throw new SuiteError(`${this.where}: "${field}" ${msg}`); }
  obj(v: unknown, field: string): Obj { if (!isObj(v)) this.fail(field, 'must be an object'); return v; }
  arr(v: unknown, field: string): unknown[] { if (!Array.isArray(v)) this.fail(field, 'must be a list'); return v; }
  str(v: unknown, field: string, nonEmpty = true): string { if (typeof v !== 'string' || (nonEmpty && !v.trim())) this.fail(field, nonEmpty ? 'must be a non-empty string' : 'must be a string'); return v; }
  strs(v: unknown, field: string): string[] { return this.arr(v, field).map((x, i) => this.str(x, `${field}[${i}]`)); }
}

/** A valid tool name (^[A-Za-z0-9_-]{1,64}$, as chat APIs require), unique among `taken`. */
export function toolNameFor(name: string, taken: Set<string>): string {
  const base = (name.replace(/[^A-Za-z0-9_-]/g, '_') || 'tool').slice(0, 60);
  let out = base;
  for (let k = 2; taken.has(out); k++) out = `${base}_${k}`;
  taken.add(out);
  return out;
}

/** The last path segment without extension: "a/b/BFCL_v4_simple_python.json" → "BFCL_v4_simple_python". */
export function baseName(path: string): string {
  const last = path.split(/[\\/]/).pop() ?? path;
  return last.replace(/\.(jsonl?|ya?ml|py)$/i, '');
}
