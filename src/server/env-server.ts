// The environment server: the sandbox as an OpenEnv environment. WebSocket /ws carries
// {"type": "reset" | "step" | "state" | "close", "data": {...}} and answers
// {"type": "observation" | "state" | "error", "data": {...}}; one episode per connection, many
// connections at once. HTTP: GET /health, /schema, /metadata; POST /score (OpenRLHF's shape).
// Everything a client sends is untrusted: sizes, counts and idle time are bounded, and a bad
// message gets a JSON error on its own connection while every other episode goes on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Scenario } from '../sandbox/scenarios/types';
import { EnvError } from './errors';
import { envSchemas } from './schema';
import { scoreBatch } from './score';
import { EnvSession, short, type VerifierChoice } from './session';

export interface EnvServerLimits {
  /** Open connections (episodes) at once; more are refused with close code 1013 (try again later). */
  maxSessions: number;
  /** Assistant turns per episode. */
  maxTurns: number;
  /** Bytes of one WebSocket message answered with a JSON error when exceeded. */
  maxMessageBytes: number;
  /** Bytes past which a frame is not even read: the connection is closed with 1009. */
  hardFrameBytes: number;
  /** Characters of one step's text. */
  maxTextChars: number;
  /** Messages queued on one connection while an earlier one is still being answered. */
  maxQueued: number;
  /** A connection with no message for this long gets an idle_timeout error and is closed. */
  idleTimeoutMs: number;
  /** Bytes of a POST /score body, and items in it. */
  maxScoreBodyBytes: number;
  maxScoreItems: number;
}

export const DEFAULT_LIMITS: EnvServerLimits = {
  maxSessions: 256,
  maxTurns: 8,
  maxMessageBytes: 256 * 1024,
  hardFrameBytes: 4 * 1024 * 1024,
  maxTextChars: 65_536,
  maxQueued: 8,
  idleTimeoutMs: 300_000,
  maxScoreBodyBytes: 16 * 1024 * 1024,
  maxScoreItems: 4096,
};

export interface EnvServerOptions {
  scenarios: readonly Scenario[];
  /** Where the scenarios came from (shown by /metadata). */
  source: string;
  verifier?: VerifierChoice;
  limits?: Partial<EnvServerLimits>;
}

export interface EnvServer {
  readonly http: Server;
  readonly port: number;
  /** Open WebSocket sessions right now. */
  sessions(): number;
  close(): Promise<void>;
}

const MESSAGE_TYPES = ['reset', 'step', 'state', 'close'] as const;

function sendJson(ws: WebSocket, type: string, data: unknown) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, data }));
}

function errorData(err: unknown): { code: string; message: string } {
  if (err instanceof EnvError) return { code: err.code, message: err.message };
  return { code: 'internal', message: `internal error: ${(err as Error)?.message ?? String(err)}` };
}

function reply(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startEnvServer(options: EnvServerOptions, port = 0, host = '127.0.0.1'): Promise<EnvServer> {
  const limits: EnvServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const { scenarios } = options;
  if (scenarios.length === 0) throw new Error('environment server: the suite has no scenarios');
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const verifier = options.verifier ?? 'scenario';
  if (verifier !== 'scenario' && !(verifier >= 0 && verifier <= 1))
    throw new Error(`environment server: verifier must be "scenario" or a probability in [0, 1], got ${verifier}`);
  const cells = new Map<string, number>();
  for (const s of scenarios) cells.set(s.cell, (cells.get(s.cell) ?? 0) + 1);
  const metadata = {
    name: 'agent-safety-sandbox',
    description:
      'Mock-tool sandbox with benign, malicious and sensitive requests and prompt injections; the assistant verifies sensitive actions with <tool_check> (arXiv 2507.08270). Reward R = R_format × R_label.',
    protocol: 'openenv-ws',
    source: options.source,
    scenarios: scenarios.length,
    cells: Object.fromEntries(cells),
    scenario_ids: scenarios.map((s) => s.id),
    verifier: verifier === 'scenario' ? 'scenario' : `simulated(p=${verifier})`,
    limits,
  };
  const schemas = envSchemas(limits.maxTextChars);

  const http = createServer((req, res) => {
    void handleHttp(req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.hardFrameBytes });
  const open = new Set<WebSocket>();

  async function handleHttp(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/health') return reply(res, 200, { status: 'healthy', sessions: open.size });
      if (req.method === 'GET' && path === '/schema') return reply(res, 200, schemas);
      if (req.method === 'GET' && path === '/metadata') return reply(res, 200, metadata);
      if (req.method === 'POST' && path === '/score') {
        const body = await readBody(req, limits.maxScoreBodyBytes);
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          throw new EnvError('bad_json', '/score: the body is not valid JSON');
        }
        return reply(res, 200, await scoreBatch(json, byId, verifier, limits.maxScoreItems, limits.maxTextChars));
      }
      return reply(res, 404, {
        error: { code: 'not_found', message: `no ${req.method} ${short(path)}; try GET /health, /schema, /metadata, POST /score or WebSocket /ws` },
      });
    } catch (err) {
      const data = errorData(err);
      if (res.headersSent) return;
      const status = data.code === 'internal' ? 500 : data.code === 'too_large' ? 413 : 400;
      if (status === 413) {
        res.setHeader('connection', 'close');
        res.on('finish', () => req.socket.destroy());
      }
      reply(res, status, { error: data });
    }
  }

  http.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (open.size >= limits.maxSessions) {
        ws.close(1013, `server full: ${limits.maxSessions} sessions open`);
        return;
      }
      serve(ws);
    });
  });

  function serve(ws: WebSocket) {
    open.add(ws);
    const session = new EnvSession(scenarios, byId, verifier, { maxTurns: limits.maxTurns, maxTextChars: limits.maxTextChars });
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        sendJson(ws, 'error', { code: 'idle_timeout', message: `no message for ${limits.idleTimeoutMs} ms: the episode is closed` });
        ws.close(4408, 'idle timeout');
      }, limits.idleTimeoutMs);
    };
    touch();
    ws.on('close', () => {
      clearTimeout(idle);
      open.delete(ws);
    });
    ws.on('error', () => {
      /* protocol errors (bad UTF-8, oversized frames) close this socket only */
    });
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      touch();
      if (queued >= limits.maxQueued) {
        sendJson(ws, 'error', { code: 'busy', message: `more than ${limits.maxQueued} messages waiting on this connection; wait for each answer` });
        return;
      }
      queued++;
      chain = chain
        .then(() => handle(raw, isBinary))
        .catch((err) => sendJson(ws, 'error', errorData(err)))
        .finally(() => {
          queued--;
        });
    });

    async function handle(raw: RawData, isBinary: boolean) {
      const bytes = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
      if (isBinary) throw new EnvError('binary_frame', 'binary frames are not accepted: send JSON text');
      if (bytes > limits.maxMessageBytes) throw new EnvError('too_large', `message of ${bytes} bytes; the limit is ${limits.maxMessageBytes}`);
      const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8');
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        throw new EnvError('bad_json', 'the message is not valid JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new EnvError('bad_request', 'a message must be a JSON object {"type", "data"}');
      const { type, data = {} } = msg as { type?: unknown; data?: unknown };
      if (!MESSAGE_TYPES.includes(type as (typeof MESSAGE_TYPES)[number]))
        throw new EnvError('unknown_type', `unknown message type ${short(type)}; expected one of ${MESSAGE_TYPES.join(', ')}`);
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw new EnvError('bad_request', `"data" must be a JSON object, got ${short(data)}`);
      const d = data as Record<string, unknown>;
      if (type === 'reset') return sendJson(ws, 'observation', session.reset(d));
      if (type === 'step') return sendJson(ws, 'observation', await session.step(d));
      if (type === 'state') return sendJson(ws, 'state', session.state());
      ws.close(1000, 'closed by client');
    }
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return {
    http,
    port: (http.address() as AddressInfo).port,
    sessions: () => open.size,
    async close() {
      for (const ws of open) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Stop reading at once; the 413 answer closes the connection (see handleHttp).
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        reject(new EnvError('too_large', `/score: body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
