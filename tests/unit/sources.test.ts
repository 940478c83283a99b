import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/hf-io/byte-source';
import { MemoryByteCache } from '../../src/hf-io/cache';
import { ModelLoadError } from '../../src/hf-io/errors';
import { HubSource } from '../../src/hf-io/hub-source';
import { loadModel } from '../../src/hf-io/load-model';
import { FsByteCache, NodeDirSource } from '../../src/hf-io/node-sources';
import { SafetensorsFile } from '../../src/hf-io/safetensors';
import { writeSafetensors } from '../../src/hf-io/safetensors-writer';
import { LocalFilesSource, ModelFileNotFoundError, openModelFiles, type DownloadProgress } from '../../src/hf-io/sources';
import { makeTinyModel } from '../../models/tiny-model';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

const REPO = 'test-org/tiny-qwen2';
const tiny = makeTinyModel({ arch: 'qwen2', seed: 11 });
const FILES = ['config.json', 'generation_config.json', 'model.safetensors'];

describe('HubSource against a local server in the hub URL layout', () => {
  let root: string;
  let server: StaticServer;
  let truncateAt: { path: string; bytes: number } | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hub-'));
    // Single-file repo at revision main.
    for (const [name, bytes] of tiny.files) {
      mkdirSync(join(root, 'single'), { recursive: true });
      writeFileSync(join(root, 'single', name), bytes);
    }
    // Sharded repo at revision "sharded": the same tensors split over two files plus an index.
    const file = await SafetensorsFile.open(bytesSource('model.safetensors', tiny.files.get('model.safetensors')!));
    const shards: Record<string, { name: string; dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; data: Uint8Array }[]> = {
      'model-00001-of-00002.safetensors': [],
      'model-00002-of-00002.safetensors': [],
    };
    const weightMap: Record<string, string> = {};
    for await (const t of file.tensors()) {
      const shard = t.name.startsWith('model.layers.1.') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
      shards[shard].push({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.bytes });
      weightMap[t.name] = shard;
    }
    mkdirSync(join(root, 'sharded'));
    writeFileSync(join(root, 'sharded', 'config.json'), tiny.files.get('config.json')!);
    writeFileSync(join(root, 'sharded', 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    for (const [name, tensors] of Object.entries(shards)) writeFileSync(join(root, 'sharded', name), writeSafetensors(tensors));

    server = await startStaticServer({
      root,
      rewrite: (path) => {
        const m = path.match(/^\/test-org\/tiny-qwen2\/resolve\/(main|sharded)\/(.+)$/);
        return m ? `/${m[1] === 'main' ? 'single' : 'sharded'}/${m[2]}` : undefined;
      },
      truncate: (path) => (truncateAt && path === truncateAt.path ? truncateAt.bytes : undefined),
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const totalHits = () => [...server.hits.values()].reduce((a, b) => a + b, 0);

  it('downloads with monotonic per-file and overall progress ending at the total, then loads from the cache with no request', async () => {
    const cache = new MemoryByteCache();
    const hub = new HubSource({ repo: REPO, baseUrl: server.url + '/', cache });
    const events: DownloadProgress[] = [];
    const model = await loadModel(hub, { onProgress: (p) => events.push(p) });
    expect(model.config.architecture).toBe('Qwen2ForCausalLM');
    expect((await model.checkpoint.tensor('model.layers.1.mlp.up_proj.weight')).bytes.byteLength).toBe(128 * 64 * 4);

    const total = FILES.reduce((s, f) => s + tiny.files.get(f)!.byteLength, 0);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].overallLoaded).toBeGreaterThanOrEqual(events[i - 1].overallLoaded);
      if (events[i].file === events[i - 1].file) expect(events[i].loaded).toBeGreaterThanOrEqual(events[i - 1].loaded);
    }
    const big = events.filter((e) => e.file === 'model.safetensors');
    expect(big.length).toBeGreaterThan(2); // several chunks, not one jump
    expect(big.every((e) => e.total === tiny.files.get('model.safetensors')!.byteLength && !e.fromCache)).toBe(true);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ overallLoaded: total, overallTotal: total, filesDone: 5, filesTotal: 5 });
    // tokenizer files are optional and absent (reduced vocabulary): 404s, not failures.
    expect(server.hits.get(`/${REPO}/resolve/main/tokenizer.json`)).toBe(1);
    expect(events.filter((e) => e.skipped).map((e) => e.file)).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect((await cache.list()).sort()).toEqual(FILES.map((f) => `${server.url}/${REPO}/resolve/main/${f}`).sort());

    const before = totalHits();
    const cachedEvents: DownloadProgress[] = [];
    const again = await loadModel(new HubSource({ repo: REPO, baseUrl: server.url, cache }), {
      onProgress: (p) => cachedEvents.push(p),
      extraFiles: ['generation_config.json'],
    });
    expect(totalHits()).toBe(before);
    expect(cachedEvents.every((e) => e.fromCache)).toBe(true);
    expect((await again.checkpoint.tensor('model.norm.weight')).bytes).toEqual((await model.checkpoint.tensor('model.norm.weight')).bytes);
  });

  it('a missing file gives a 404 error naming the URL', async () => {
    const hub = new HubSource({ repo: REPO, baseUrl: server.url });
    const err = await hub.open('does-not-exist.json').catch((e) => e);
    expect(err).toBeInstanceOf(ModelFileNotFoundError);
    expect(err.message).toBe(`does-not-exist.json: not found (HTTP 404) at ${server.url}/${REPO}/resolve/main/does-not-exist.json`);
    const wrongRepo = await loadModel(new HubSource({ repo: 'nobody/nothing', baseUrl: server.url })).catch((e) => e);
    expect(wrongRepo.message).toMatch(/^config\.json: not found \(HTTP 404\) at http:\/\/127\.0\.0\.1:\d+\/nobody\/nothing\/resolve\/main\/config\.json$/);
  });

  it('a truncated download fails naming the file and byte counts, caches nothing, and a retry succeeds', async () => {
    const cache = new MemoryByteCache();
    const path = `/${REPO}/resolve/main/model.safetensors`;
    const size = tiny.files.get('model.safetensors')!.byteLength;
    truncateAt = { path, bytes: Math.floor(size / 2) };
    try {
      const err = await loadModel(new HubSource({ repo: REPO, baseUrl: server.url, cache })).catch((e) => e);
      expect(err).toBeInstanceOf(ModelLoadError);
      expect(err.message).toMatch(new RegExp(`^model\\.safetensors: download (cut off after|truncated: received) \\d+ (of ${size} )?bytes`));
      expect(err.message).toContain(`of ${size}`);
      expect(await cache.list()).not.toContain(server.url + path);
      expect(await cache.get(server.url + path)).toBeUndefined();
    } finally {
      truncateAt = undefined;
    }
    const hitsBefore = server.hits.get(path)!;
    const model = await loadModel(new HubSource({ repo: REPO, baseUrl: server.url, cache }));
    expect(server.hits.get(path)).toBe(hitsBefore + 1);
    expect(model.checkpoint.names().length).toBeGreaterThan(0);
    expect(await cache.list()).toContain(server.url + path);
  });

  it('loads a sharded checkpoint through its index', async () => {
    const model = await loadModel(new HubSource({ repo: REPO, revision: 'sharded', baseUrl: server.url, cache: new MemoryByteCache() }));
    expect([...model.files.keys()]).toEqual(
      expect.arrayContaining(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']),
    );
    expect(model.checkpoint.info('model.layers.1.self_attn.q_proj.bias').file).toBe('model-00002-of-00002.safetensors');
  });

  it('caches on the filesystem too, atomically, so a second load makes no request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fscache-'));
    try {
      const cache = new FsByteCache(dir);
      await loadModel(new HubSource({ repo: REPO, baseUrl: server.url, cache }), { extraFiles: [] });
      expect(await cache.list()).toHaveLength(2);
      const before = totalHits();
      const again = await loadModel(new HubSource({ repo: REPO, baseUrl: server.url, cache }), { extraFiles: [] });
      expect(totalHits()).toBe(before);
      expect(again.config.numLayers).toBe(2);
      const key = `${server.url}/${REPO}/resolve/main/config.json`;
      expect(await cache.delete(key)).toBe(true);
      expect(await cache.get(key)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HubSource error handling without a server', () => {
  const fakeFetch =
    (response: () => Response): typeof fetch =>
    async () =>
      response();

  it('builds hub URLs from a configurable base, default huggingface.co', () => {
    expect(new HubSource({ repo: 'Qwen/Qwen3-0.6B' }).fileUrl('config.json')).toBe('https://huggingface.co/Qwen/Qwen3-0.6B/resolve/main/config.json');
    expect(new HubSource({ repo: 'Qwen/Qwen3-0.6B', revision: 'refs/pr/1', baseUrl: 'https://mirror.example/hf/' }).fileUrl('a b.json')).toBe(
      'https://mirror.example/hf/Qwen/Qwen3-0.6B/resolve/refs%2Fpr%2F1/a%20b.json',
    );
    expect(() => new HubSource({ repo: '../etc' })).toThrow(/invalid hub repository id "\.\.\/etc"/);
    expect(() => new HubSource({ repo: 'a/b' }).fileUrl('../x')).toThrow(/invalid file path/);
  });

  it('names URL and status of HTTP errors', async () => {
    const hub = new HubSource({
      repo: 'a/b',
      baseUrl: 'http://mirror.test',
      fetch: fakeFetch(() => new Response('busy', { status: 503, statusText: 'Service Unavailable' })),
    });
    await expect(hub.open('config.json')).rejects.toThrow('config.json: HTTP 503 Service Unavailable from http://mirror.test/a/b/resolve/main/config.json');
  });

  it('a body that ends cleanly but short of content-length is a truncation, not cached', async () => {
    const cache = new MemoryByteCache();
    const hub = new HubSource({
      repo: 'a/b',
      baseUrl: 'http://mirror.test',
      cache,
      fetch: fakeFetch(() => new Response('{"a":', { headers: { 'content-length': '100' } })),
    });
    await expect(hub.open('config.json')).rejects.toThrow(
      'config.json: download truncated: received 5 of 100 bytes from http://mirror.test/a/b/resolve/main/config.json',
    );
    expect(await cache.list()).toEqual([]);
  });

  it('names the URL when the network fails', async () => {
    const hub = new HubSource({
      repo: 'a/b',
      baseUrl: 'http://mirror.test',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(hub.open('config.json')).rejects.toThrow('config.json: request to http://mirror.test/a/b/resolve/main/config.json failed: fetch failed');
  });

  it('refuses and does not cache a 200 body that is not the file (an HTML page instead of safetensors)', async () => {
    const cache = new MemoryByteCache();
    const hub = new HubSource({
      repo: 'a/b',
      baseUrl: 'http://mirror.test',
      cache,
      fetch: fakeFetch(() => new Response('<html>login required</html>', { status: 200 })),
    });
    await expect(hub.open('model.safetensors')).rejects.toThrow(
      /^model\.safetensors: downloaded from http:\/\/mirror\.test\/a\/b\/resolve\/main\/model\.safetensors but failed verification, not cached: model\.safetensors: header length \d+ is larger/,
    );
    await expect(hub.open('config.json')).rejects.toThrow(/^config\.json: downloaded from .* but failed verification, not cached: not valid JSON/);
    expect(await cache.list()).toEqual([]);
  });

  it('still loads when storing in the cache fails, and reports it', async () => {
    const failures: string[] = [];
    const brokenCache = {
      get: async () => undefined,
      put: async () => {
        throw new Error('QuotaExceededError');
      },
      delete: async () => false,
      list: async () => [],
    };
    const hub = new HubSource({
      repo: 'a/b',
      baseUrl: 'http://mirror.test',
      cache: brokenCache,
      onCacheError: (f, e) => failures.push(`${f}: ${(e as Error).message}`),
      fetch: fakeFetch(() => new Response('{"a":1}')),
    });
    const source = await hub.open('config.json');
    expect(new TextDecoder().decode(await source.read(0, source.size))).toBe('{"a":1}');
    expect(failures).toEqual(['config.json: QuotaExceededError']);
  });
});

describe('local sources', () => {
  it('LocalFilesSource maps webkitdirectory paths and names missing files', async () => {
    const withPath = (f: File, p: string) => Object.defineProperty(f, 'webkitRelativePath', { value: p });
    const files = FILES.map((name) => withPath(new File([tiny.files.get(name)! as Uint8Array<ArrayBuffer>], name), `my-model/${name}`));
    const source = new LocalFilesSource(files, 'folder my-model');
    expect(source.files).toEqual(FILES.slice().sort());
    const events: DownloadProgress[] = [];
    const model = await loadModel(source, { onProgress: (e) => events.push(e) });
    expect(model.config.family).toBe('qwen2');
    expect(events[events.length - 1].overallLoaded).toBe(events[events.length - 1].overallTotal);
    await expect(source.open('tokenizer.json')).rejects.toThrow(
      /^tokenizer\.json: not found in folder my-model \(it has config\.json, generation_config\.json, model\.safetensors\)/,
    );
  });

  it('NodeDirSource reads a model directory and reports a missing config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dir-'));
    try {
      writeFileSync(join(dir, 'model.safetensors'), tiny.files.get('model.safetensors')!);
      await expect(loadModel(new NodeDirSource(dir))).rejects.toThrow(`config.json: not found in ${dir}`);
      writeFileSync(join(dir, 'config.json'), tiny.files.get('config.json')!);
      const files = await openModelFiles(new NodeDirSource(dir), ['config.json', 'tokenizer.json'], { optional: ['tokenizer.json'] });
      expect([...files.keys()]).toEqual(['config.json']);
      expect((await loadModel(new NodeDirSource(dir))).checkpoint.names()).toContain('model.embed_tokens.weight');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
