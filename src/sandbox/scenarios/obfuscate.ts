// Surface obfuscations used by jailbreaks and injections: encodings, leetspeak, typos, splits.
import type { Rng } from '../rng';

export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const LEET: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' };
export function leet(text: string): string {
  return text.replace(/[aeiost]/gi, (c) => LEET[c.toLowerCase()] ?? c);
}

/** Swaps adjacent letters in about one word in five (keeps emails, numbers and paths intact). */
export function typos(text: string, rng: Rng): string {
  return text
    .split(' ')
    .map((w) => (w.length > 4 && /^[a-z]+$/i.test(w) && rng.chance(0.2) ? w[0] + w[2] + w[1] + w.slice(3) : w))
    .join(' ');
}

export function splitHalves(text: string): [string, string] {
  const mid = text.indexOf(' ', Math.floor(text.length / 2));
  return mid < 0 ? [text, ''] : [text.slice(0, mid), text.slice(mid + 1)];
}
