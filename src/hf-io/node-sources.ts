// Node-only byte sources (CLI, tests): positioned reads from a file on disk. Kept out of the
// browser modules so the app bundle never imports node:fs.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ByteSource } from './byte-source';
import type { ByteCache } from './cache';
import { ModelLoadError } from './errors';
import { ModelFileNotFoundError, type ModelSource, type OpenOptions } from './sources';

export async function nodeFileSource(path: string, name = basename(path)): Promise<ByteSource> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
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

/** A model directory on disk (CLI, tests), in Hugging Face layout. */
export class NodeDirSource implements ModelSource {
  constructor(readonly dir: string) {}

  get label(): string {
    return `directory ${this.dir}`;
  }

  async open(file: string, options?: OpenOptions): Promise<ByteSource> {
    if (!file || file.split('/').some((seg) => !seg || seg === '.' || seg === '..')) throw new ModelLoadError(`invalid file path "${file}"`);
    const path = join(this.dir, ...file.split('/'));
    let isFile = false;
    try {
      isFile = (await stat(path)).isFile();
    } catch {
      /* reported below */
    }
    if (!isFile) throw new ModelFileNotFoundError(file, `${file}: not found in ${this.dir}`);
    const source = await nodeFileSource(path, file);
    options?.onProgress?.({ loaded: source.size, total: source.size, fromCache: false });
    return source;
  }
}

/**
 * ByteCache in a directory (CLI downloads). Entries are written to a temporary name and renamed
 * into place, so a crash mid-write never leaves a partial entry under the real key.
 */
export class FsByteCache implements ByteCache {
  constructor(readonly dir: string) {}

  private pathFor(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex'));
  }

  async get(key: string, name = key): Promise<ByteSource | undefined> {
    const path = this.pathFor(key);
    try {
      await stat(path);
    } catch {
      return undefined;
    }
    return nodeFileSource(path, name);
  }

  async put(key: string, data: Blob): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathFor(key);
    const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
    await writeFile(tmp, Readable.fromWeb(data.stream() as import('node:stream/web').ReadableStream<Uint8Array>));
    await writeFile(`${path}.key`, key);
    await rename(tmp, path);
  }

  async delete(key: string): Promise<boolean> {
    const path = this.pathFor(key);
    try {
      await rm(path);
    } catch {
      return false;
    }
    await rm(`${path}.key`, { force: true });
    return true;
  }

  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const keys: string[] = [];
    for (const n of names.filter((n) => n.endsWith('.key'))) {
      try {
        await stat(join(this.dir, n.slice(0, -4)));
        keys.push(await readFile(join(this.dir, n), 'utf8'));
      } catch {
        /* entry without data: not listed */
      }
    }
    return keys.sort();
  }
}
