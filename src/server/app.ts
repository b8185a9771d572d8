import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { API_VERSION, MIN_API_VERSION, ENGINE_VERSION, compareApiVersions, splitVersionedPath } from '../api/version.ts';
import { InvalidParameter, NotFound } from '../lib/errors.ts';
import { log } from '../lib/logger.ts';
import type { RequestContext } from './context.ts';
import { sendError, statusOf } from './errors.ts';
import type { Router } from './router.ts';

// node:http through getBuiltinModule: the ESM facade of node:http touches every lazy export,
// which loads undici (~14 MB of RSS and ~40 ms of start-up) that berthd never uses.
const { createServer } = process.getBuiltinModule('node:http');

const COMMON_HEADERS: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Docker/${ENGINE_VERSION} (linux) berth`,
};

function checkVersion(v: string | undefined): string {
  if (v === undefined) return API_VERSION;
  if (compareApiVersions(v, API_VERSION) > 0) {
    throw new InvalidParameter(`client version ${v} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareApiVersions(v, MIN_API_VERSION) < 0) {
    throw new InvalidParameter(`client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return v;
}

function buildContext(req: IncomingMessage, router: Router, res?: ServerResponse): { ctx: RequestContext; found: ReturnType<Router['find']> } {
  const url = new URL(req.url ?? '/', 'http://berth');
  const [rawVersion, path] = splitVersionedPath(url.pathname);
  const version = checkVersion(rawVersion);
  const method = req.method ?? 'GET';
  const found = router.find(method, path);
  const ctx: RequestContext = { method, path, params: found?.params ?? {}, query: url.searchParams, version, req, res };
  return { ctx, found };
}

/** Certificates for a TCP listener (dockerd's --tls/--tlsverify). */
export interface ApiTlsOptions {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer;
  /** Require and verify client certificates signed by `ca` (--tlsverify). */
  verify: boolean;
}

const SERVER_OPTIONS = { keepAlive: true, keepAliveTimeout: 30_000, requestTimeout: 0, headersTimeout: 60_000 };

/** The HTTP (or, with `tls`, HTTPS) server for the Docker API: version prefix, common headers, errors, hijack. */
export function createApiServer(router: Router, tls?: ApiTlsOptions): Server {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    let ctx: RequestContext;
    let found: ReturnType<Router['find']>;
    try {
      ({ ctx, found } = buildContext(req, router, res));
    } catch (err) {
      sendError(res, err);
      return;
    }
    if (!found) {
      sendError(res, new NotFound('page not found'));
      return;
    }
    log.debug('request', { method: req.method, url: req.url });
    found.handler(ctx).catch((err: unknown) => sendError(res, err));
  };
  // allowHalfOpen, as node:http has it on plain sockets: the docker CLI half-closes a hijacked
  // connection (close_notify over TLS) and still reads the output.
  const server: Server = tls
    ? process.getBuiltinModule('node:https').createServer({ ...SERVER_OPTIONS, allowHalfOpen: true, key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.verify, rejectUnauthorized: tls.verify }, handler)
    : createServer(SERVER_OPTIONS, handler);

  // Attach and exec start arrive with `Upgrade: tcp`; node hands us the raw socket.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const fail = (err: unknown): void => {
      const status = statusOf(err);
      const body = JSON.stringify({ message: err instanceof Error ? err.message : String(err) }) + '\n';
      socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${body}`);
    };
    try {
      const { ctx, found } = buildContext(req, router);
      if (!found) throw new NotFound('page not found');
      log.debug('request', { method: req.method, url: req.url, upgrade: true });
      ctx.upgradeSocket = socket;
      ctx.upgradeHead = head;
      found.handler(ctx).catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  return server;
}
