// A tiny dockerd look-alike on a temporary UNIX socket, answering as the trace shows
// (docker-api-trace.md). Tests register handlers per "METHOD /path" (without the /vX.Y prefix).
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  version: string | undefined;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface UpgradeContext {
  req: RecordedRequest;
  socket: Duplex;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;
export type UpgradeHandler = (ctx: UpgradeContext) => void;

export interface FakeDaemonOptions {
  /** Api-Version header of every response; null = omit it. */
  apiVersion?: string | null;
  /** Status of HEAD /_ping (GET /_ping always answers 200). */
  headPingStatus?: number;
}

export class FakeDaemon {
  readonly dir: string;
  readonly socketPath: string;
  readonly requests: RecordedRequest[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private readonly server: http.Server;
  private readonly options: FakeDaemonOptions;

  constructor(options: FakeDaemonOptions = {}) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'berth-fake-'));
    this.socketPath = join(this.dir, 'd.sock');
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const rec = record(req, '');
      this.requests.push(rec);
      const h = this.upgrades.get(`${rec.method} ${rec.path}`);
      if (!h) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{"message":"page not found"}');
        return;
      }
      if (head.length) socket.unshift(head);
      h({ req: rec, socket });
    });
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  on(route: string, handler: Handler): this {
    this.handlers.set(route, handler);
    return this;
  }

  onUpgrade(route: string, handler: UpgradeHandler): this {
    this.upgrades.set(route, handler);
    return this;
  }

  listen(): Promise<this> {
    return new Promise((resolve) => this.server.listen(this.socketPath, () => resolve(this)));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Requests other than pings, as "METHOD /path?query". */
  calls(): string[] {
    return this.requests.filter((r) => r.path !== '/_ping').map((r) => `${r.method} ${r.url.replace(/^\/v\d+\.\d+/, '')}`);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec = record(req, Buffer.concat(chunks).toString('utf8'));
    this.requests.push(rec);
    if (this.options.apiVersion !== null) res.setHeader('Api-Version', this.options.apiVersion ?? '1.47');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    if (rec.path === '/_ping') {
      res.statusCode = rec.method === 'HEAD' ? (this.options.headPingStatus ?? 200) : 200;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(rec.method === 'GET' ? 'OK' : undefined);
      return;
    }
    // dockerd refuses a version above its own before routing (api/server/middleware/version.go)
    const max = this.options.apiVersion ?? '1.47';
    const newer = (a: string, b: string) => { const [x, y] = a.split('.').map(Number); const [u, v] = b.split('.').map(Number); return x !== u ? x > u : y > v; };
    if (rec.version && newer(rec.version, max)) return sendError(res, 400, `client version ${rec.version} is too new. Maximum supported API version is ${max}`);
    const handler = this.handlers.get(`${rec.method} ${rec.path}`);
    if (!handler) return sendError(res, 404, 'page not found');
    await handler(rec, res);
  }
}

function record(req: IncomingMessage, body: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://x');
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    path: decodeURIComponent(m ? m[2] : url.pathname),
    version: m?.[1],
    query: url.searchParams,
    headers: req.headers,
    body,
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { message });
}

/** 101 handshake on a hijacked socket, as dockerd writes it. */
export function upgrade(socket: Duplex, contentType = 'application/vnd.docker.multiplexed-stream'): void {
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
}

export function frame(stream: number, payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
