// Shared by the benchmark importers: reading JSON or JSON Lines (linear in the file size, with
// the line of each record kept for errors), field checks whose errors name the file, the record
// and the field, and tool-name sanitising.
import { LIMITS, parseJsonBounded } from '../limits';
import { SuiteError } from '../scenarios/suite-format';

export { SuiteError as BenchmarkImportError };

/** A file given to an importer: its name (path) and text. */
export interface SourceFile {
  name: string;
  text: string;
}

export interface SourceRecord {
  value: unknown;
  where: string;
}

/**
 * The file's text without a byte-order mark, refused before anything is parsed when it is over the
 * suite size limit (docs/limits.md), so a huge file costs one length check.
 */
export function boundedText(file: SourceFile): string {
  if (file.text.length > LIMITS.suiteChars) throw new SuiteError(`${file.name}: is ${file.text.length} characters, over the limit of ${LIMITS.suiteChars}`);
  return file.text.replace(/^\uFEFF/, '');
}

/** JSON text parsed within the suite depth and size limits; `where` starts the error. */
function parseBounded(text: string, where: string): unknown {
  const r = parseJsonBounded(text, { maxDepth: LIMITS.suiteDepth, maxNodes: LIMITS.suiteNodes });
  if (!r.ok) throw new SuiteError(`${where} ${r.error}`);
  return r.value;
}

/** Records of a JSON array file or a JSON Lines file (BFCL's ".json" files are JSON Lines). */
export function readRecords(file: SourceFile): SourceRecord[] {
  const text = boundedText(file);
  const first = text.trimStart()[0];
  if (first === '[') {
    const json = parseBounded(text, `${file.name}:`) as unknown[];
    return json.map((value, i) => ({ value, where: `${file.name}: record ${i}` }));
  }
  const out: SourceRecord[] = [];
  let start = 0,
    line = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const row = text.slice(start, end).trim();
    if (row) out.push({ value: parseBounded(row, `${file.name}: line ${line}`), where: `${file.name}: line ${line}` });
    start = end + 1;
  }
  if (!out.length) throw new SuiteError(`${file.name}: has no records`);
  return out;
}

export function parseJsonFile(file: SourceFile): unknown {
  return parseBounded(boundedText(file), `${file.name}:`);
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field checks for one record; errors read `FILE: line N (id "x"): "field" must be ...`. */
export class RecordChecker {
  constructor(public where: string) {}
  fail(field: string, msg: string): never {
    throw new SuiteError(`${this.where}: "${field}" ${msg}`);
  }
  obj(v: unknown, field: string): Obj {
    if (!isObj(v)) this.fail(field, 'must be an object');
    return v;
  }
  arr(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v;
  }
  str(v: unknown, field: string, nonEmpty = true): string {
    if (typeof v !== 'string' || (nonEmpty && !v.trim())) this.fail(field, nonEmpty ? 'must be a non-empty string' : 'must be a string');
    return v;
  }
  strs(v: unknown, field: string): string[] {
    return this.arr(v, field).map((x, i) => this.str(x, `${field}[${i}]`));
  }
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
