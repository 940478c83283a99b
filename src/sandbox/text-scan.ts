// Email-address checks on attacker text, written as single scans instead of regular expressions:
// the patterns they replace (/^[^@\s]+@[^@\s]+\.[^@\s]+$/, /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)
// backtrack quadratically on inputs like "a@" + "a." * 300000 + "@". Each function here looks at
// every character a bounded number of times.

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || /\s/.test(c);

/** One "@", a non-empty local part, a domain with a dot that is neither first nor last; no whitespace. */
export function isEmailAddress(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0 || text.indexOf('@', at + 1) >= 0) return false;
  const dot = text.indexOf('.', at + 2);
  if (dot < 0 || dot === text.length - 1) return false;
  for (let i = 0; i < text.length; i++) if (isSpace(text[i])) return false;
  return true;
}

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isLocal = (c: number) => isWord(c) || c === 46 /* . */ || c === 43 /* + */ || c === 45; /* - */
const isLabel = (c: number) => isWord(c) || c === 45;

/**
 * Every address in a text, left to right, exactly what /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g matches
 * (ASCII \w): the local part runs left from each "@" (not into the previous match), the domain
 * is labels joined by dots, at least two, without a trailing dot.
 */
export function findEmailAddresses(text: string): string[] {
  const out: string[] = [];
  let lastEnd = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > lastEnd && isLocal(text.charCodeAt(start - 1))) start--;
    if (start === at) continue;
    let end = at + 1;
    while (end < text.length && isLabel(text.charCodeAt(end))) end++;
    if (end === at + 1) continue;
    let labels = 1;
    for (;;) {
      if (text.charCodeAt(end) !== 46) break;
      let next = end + 1;
      while (next < text.length && isLabel(text.charCodeAt(next))) next++;
      if (next === end + 1) break;
      end = next;
      labels++;
    }
    if (labels < 2) continue;
    out.push(text.slice(start, end));
    lastEnd = end;
    at = end - 1;
  }
  return out;
}
