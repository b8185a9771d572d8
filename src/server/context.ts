import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameter } from '../lib/errors.ts';

/** What a route handler receives. `res` is absent for upgraded (hijacked) requests. */
export interface RequestContext {
  method: string;
  /** Path without the /vX.Y prefix. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for (from the path), or the server's own. */
  version: string;
  req: IncomingMessage;
  res?: ServerResponse;
  /** Set for requests that arrived with `Upgrade:` (attach, exec start). */
  upgradeSocket?: Duplex;
  upgradeHead?: Buffer;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InvalidParameter('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parse a JSON body as dockerd does: Content-Type must be JSON if set; empty body → undefined. */
export async function readJson<T>(ctx: RequestContext): Promise<T | undefined> {
  const ct = ctx.req.headers['content-type'];
  const buf = await readBody(ctx.req);
  if (buf.length === 0) return undefined;
  if (ct && !/^application\/json\b/.test(ct)) {
    throw new InvalidParameter(`Content-Type specified (${ct}) must be 'application/json'`);
  }
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidParameter(`invalid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(ctx: RequestContext, status: number, body: unknown): void {
  const res = ctx.res!;
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(ctx: RequestContext, status: number): void {
  const res = ctx.res!;
  if (status === 204 || status === 304) res.writeHead(status).end();
  else res.writeHead(status, { 'Content-Length': 0 }).end();
}

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return !(v === '0' || v.toLowerCase() === 'false');
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidParameter(`invalid value for ${name}: ${v}`);
  return n;
}
