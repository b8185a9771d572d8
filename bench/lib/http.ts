// A minimal Docker Engine API client over a UNIX socket, timing every step.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createReadStream } from 'node:fs';
import type { Socket } from 'node:net';
import { now } from './util.ts';

export interface Resp {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** ms from sending the request to the end of the body. */
  ms: number;
}

export interface ReqOpts {
  body?: unknown;
  headers?: Record<string, string>;
  agent?: Agent | false;
  timeoutMs?: number;
}

export function api(socketPath: string, method: string, path: string, opts: ReqOpts = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) + '\n';
    const headers: Record<string, string> = { ...(data !== undefined ? { 'Content-Type': 'application/json' } : {}), ...opts.headers };
    if (data !== undefined) headers['Content-Length'] = String(Buffer.byteLength(data));
    const t0 = now();
    const req = httpRequest({ socketPath, method, path, headers, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Upload a tar file (e.g. `POST /images/create?fromSrc=-`), returns the response. */
export function postFile(socketPath: string, path: string, file: string, contentType = 'application/x-tar'): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = httpRequest({ socketPath, method: 'POST', path, headers: { 'Content-Type': contentType }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: now() - t0 }));
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

export interface Hijacked {
  /** ms from request to the 101 response. */
  upgradeMs: number;
  /** Resolves with the timestamp (now()) at which the daemon closed the stream, and the bytes read. */
  ended: Promise<{ at: number; bytes: number }>;
  socket: Socket;
}

/** POST …/attach with Upgrade: tcp, as the docker CLI does; half-closes right after the 101 (no stdin). */
export function attach(socketPath: string, path: string, timeoutMs = 30_000): Promise<Hijacked> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = httpRequest({
      socketPath,
      method: 'POST',
      path,
      agent: false,
      headers: { 'Content-Length': '0', Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' },
    });
    const timer = setTimeout(() => req.destroy(new Error(`attach ${path}: no 101 within ${timeoutMs} ms`)), timeoutMs);
    req.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      const upgradeMs = now() - t0;
      if (res.statusCode !== 101) {
        socket.destroy();
        reject(new Error(`attach: status ${res.statusCode}`));
        return;
      }
      let bytes = 0;
      const ended = new Promise<{ at: number; bytes: number }>((res2) => {
        const guard = setTimeout(() => socket.destroy(), timeoutMs);
        const finish = () => {
          clearTimeout(guard);
          res2({ at: now(), bytes });
        };
        socket.on('data', (d: Buffer) => (bytes += d.length));
        socket.once('end', finish);
        socket.once('close', finish);
        socket.on('error', () => {});
      });
      socket.end(); // no stdin: half-close like the CLI
      resolve({ upgradeMs, ended, socket });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      reject(new Error(`attach: got ${res.statusCode} without upgrade`));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

export interface Streamed {
  /** ms from request to the response headers. */
  headersMs: number;
  status: number;
  /** Resolves when the body ends: the timestamp and the body text. */
  done: Promise<{ at: number; body: string }>;
}

/** A request whose headers come at once and whose body comes later (wait, events). */
export function stream(socketPath: string, method: string, path: string, opts: ReqOpts = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const req = httpRequest({ socketPath, method, path, agent: opts.agent ?? false, headers: opts.headers ?? {} }, (res) => {
      const headersMs = now() - t0;
      let body = '';
      const done = new Promise<{ at: number; body: string }>((res2, rej2) => {
        const guard = setTimeout(() => req.destroy(new Error(`${path}: body not finished in time`)), opts.timeoutMs ?? 30_000);
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          clearTimeout(guard);
          res2({ at: now(), body });
        });
        res.on('error', (e) => {
          clearTimeout(guard);
          rej2(e);
        });
        res.on('close', () => {
          clearTimeout(guard);
          res2({ at: now(), body });
        });
      });
      done.catch(() => {});
      resolve({ headersMs, status: res.statusCode ?? 0, done });
    });
    req.on('error', reject);
    req.end();
  });
}
