// A minimal static file server on 127.0.0.1 for tests: serves the built app, or a tiny model in
// the Hugging Face hub's URL layout. Faults can be injected per path (404, truncated body).
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
  /** Number of requests per URL path, to check caching. */
  hits: Map<string, number>;
}

export interface StaticServerOptions {
  root: string;
  /** Maps a request path to a file path relative to root; default identity. */
  rewrite?: (path: string) => string | undefined;
  /** Sends only this many bytes of the file for matching paths, then drops the connection. */
  truncate?: (path: string) => number | undefined;
}

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.set(urlPath, (hits.get(urlPath) ?? 0) + 1);
    let rel = opts.rewrite ? opts.rewrite(urlPath) : urlPath;
    if (rel === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(opts.root, rel));
    if (!file.startsWith(normalize(opts.root)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': String(size),
      'access-control-allow-origin': '*',
    });
    const cut = opts.truncate?.(urlPath);
    if (cut !== undefined) {
      const stream = createReadStream(file, { start: 0, end: Math.max(0, cut - 1) });
      stream.on('end', () => res.destroy());
      stream.pipe(res, { end: false });
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
