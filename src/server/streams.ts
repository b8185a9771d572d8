import type { ServerResponse } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import type { RequestContext } from './context.ts';
import { compareApiVersions } from '../api/version.ts';
import type { JSONMessage } from '../types/docker.ts';



export function streamContentType(ctx: RequestContext, tty: boolean): string {
  if (tty || compareApiVersions(ctx.version, '1.42') < 0) return 'application/vnd.docker.raw-stream';
  return 'application/vnd.docker.multiplexed-stream';
}

/**
 * Take over the connection for attach/exec: 101 UPGRADED on an upgrade request, else a 200 with
 * the raw stream as the body (what dockerd does without an Upgrade header). Returns the
 * socket-like duplex to read stdin from and write output to.
 */
export function hijack(ctx: RequestContext, contentType: string): { input: NodeJS.ReadableStream; output: Writable; close: () => void } {
  if (ctx.upgradeSocket) {
    const sock = ctx.upgradeSocket;
    sock.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (ctx.upgradeHead && ctx.upgradeHead.length > 0) sock.unshift(ctx.upgradeHead);
    return { input: sock, output: sock, close: () => closeHijacked(sock) };
  }
  const res = ctx.res as ServerResponse;
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  return { input: ctx.req, output: res, close: () => res.end() };
}

function closeHijacked(sock: Duplex): void {
  // End our side; the client may have half-closed already.
  sock.end();
  setTimeout(() => sock.destroy(), 1000).unref();
}

/** Start a chunked JSON-lines stream (pull, import, build, load progress). */
export function startJsonStream(ctx: RequestContext): { write: (m: JSONMessage) => void; end: () => void } {
  const res = ctx.res as ServerResponse;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  return {
    write: (m) => void res.write(JSON.stringify(m) + '\r\n'),
    end: () => void res.end(),
  };
}
