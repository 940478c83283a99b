// A minimal test client for the environment server: one WebSocket, one reply per message.
import WebSocket from 'ws';

export interface Reply {
  type: string;
  data: Record<string, any>;
}

export class EnvClient {
  private queue: Reply[] = [];
  private waiters: ((r: Reply) => void)[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const r = JSON.parse(raw.toString()) as Reply;
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.closeWaiters.splice(0).forEach((f) => f());
    });
    ws.on('error', () => {});
  }

  static open(port: number): Promise<EnvClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new EnvClient(ws)));
      ws.once('error', reject);
    });
  }

  next(timeoutMs = 10_000): Promise<Reply> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply within timeout')), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }

  sendRaw(data: string | Buffer, binary = false) {
    this.ws.send(data, { binary });
  }

  async request(type: string, data?: unknown): Promise<Reply> {
    this.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
    return this.next();
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('not closed within timeout')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve(this.closed!);
      });
    });
  }

  close() {
    this.ws.close();
  }
}
