// Small persisted UI settings (localStorage). Values are validated on read: a damaged or
// hand-edited entry falls back to the default instead of breaking the app.

export const DEFAULT_MIRROR = 'https://huggingface.co';
const MIRROR_KEY = 'asp.modelMirror';

/** Accepts only http(s) URLs without credentials; returns the normalised base (no trailing slash). */
export function validateMirror(input: string): { ok: true; url: string } | { ok: false; error: string } {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { ok: false, error: `mirror "${input}" is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, error: `mirror must use http or https, got ${url.protocol}` };
  if (url.username || url.password) return { ok: false, error: 'mirror URL must not contain a user name or password' };
  if (url.search || url.hash) return { ok: false, error: 'mirror URL must not contain ?query or #fragment' };
  return { ok: true, url: url.href.replace(/\/+$/, '') };
}

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export function loadMirror(): string {
  const saved = storage()?.getItem(MIRROR_KEY);
  if (!saved) return DEFAULT_MIRROR;
  const v = validateMirror(saved);
  return v.ok ? v.url : DEFAULT_MIRROR;
}

export function saveMirror(url: string): void {
  storage()?.setItem(MIRROR_KEY, url);
}
