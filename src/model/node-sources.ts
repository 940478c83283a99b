// Node-only byte sources (CLI, tests): positioned reads from a file on disk. Kept out of the
// browser modules so the app bundle never imports node:fs.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { ByteSource } from './byte-source';
import { ModelLoadError } from './errors';

export async function nodeFileSource(path: string, name = basename(path)): Promise<ByteSource> {
  let size: number;
  try { size = (await stat(path)).size; } catch {
    throw new ModelLoadError(`${name}: file not found at ${path}`);
  }
  return {
    name,
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new ModelLoadError(`${name}: read of ${length} bytes at offset ${offset} is outside the file (${size} bytes)`);
      }
      const handle = await open(path, 'r');
      try {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) throw new ModelLoadError(`${name}: file shrank while reading (${offset + done} of ${size} bytes)`);
          done += bytesRead;
        }
        return out;
      } finally {
        await handle.close();
      }
    },
  };
}

/** All files below a directory, as slash-separated paths relative to it. */
export async function listDirFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}
