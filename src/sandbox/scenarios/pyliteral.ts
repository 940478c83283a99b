// A parser for Python literals (the repr of dicts, lists, tuples, strings, numbers, True/False/
// None), as found in InjecAgent's "Tool Parameters" fields. Errors give the offset. Nesting is
// limited (MAX_DEPTH) so a hostile literal cannot overflow the stack, dict keys are set as own
// properties ('__proto__' is a key like any other), and scalars are read with sticky patterns at
// the cursor, so parsing is linear in the text.
import { setOwn } from '../limits';

const MAX_DEPTH = 32;
const WORD_RE = /(True|False|None)\b/y;
const NUM_RE = /[-+]?(\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/y;

export class PyLiteralError extends Error {}

export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const fail = (msg: string): never => {
    throw new PyLiteralError(`${msg} at offset ${i} in ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };

  function str(): string {
    const q = text[i];
    const triple = text.startsWith(q.repeat(3), i);
    i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      if (triple ? text.startsWith(q.repeat(3), i) : text[i] === q) {
        i += triple ? 3 : 1;
        return out;
      }
      const ch = text[i++];
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', b: '\b', f: '\f' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = text.slice(i, i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else if (e === '\n') {
        /* line continuation */
      } else out += '\\' + e;
    }
  }

  let depth = 0;
  function value(): unknown {
    ws();
    const ch = text[i];
    if (ch === undefined) fail('unexpected end');
    if ((ch === '{' || ch === '[' || ch === '(') && depth >= MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
    if (ch === '{') {
      i++;
      depth++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          depth--;
          return obj;
        }
        const k = value();
        if (typeof k !== 'string' && typeof k !== 'number') fail('dict keys must be strings or numbers');
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        setOwn(obj, String(k), value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          depth--;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (ch === '[' || ch === '(') {
      const close = ch === '[' ? ']' : ')';
      i++;
      depth++;
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          depth--;
          return arr;
        }
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          depth--;
          return arr;
        }
        fail(`expected "," or "${close}"`);
      }
    }
    if (ch === "'" || ch === '"') {
      let s = str();
      // Adjacent literals concatenate, as in Python.
      for (ws(); text[i] === "'" || text[i] === '"'; ws()) s += str();
      return s;
    }
    WORD_RE.lastIndex = i;
    const word = WORD_RE.exec(text);
    if (word) {
      i += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    NUM_RE.lastIndex = i;
    const num = NUM_RE.exec(text);
    if (num) {
      i += num[0].length;
      return Number(num[0].replace(/_/g, ''));
    }
    return fail(`unexpected character ${JSON.stringify(ch)}`);
  }

  const v = value();
  ws();
  if (i < text.length) fail('trailing text');
  return v;
}
