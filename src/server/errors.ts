import type { ServerResponse } from 'node:http';
import { BerthError, type ErrorKind } from '../lib/errors.ts';
import { log } from '../lib/logger.ts';

// The only place where error kinds become HTTP status codes.
const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  InvalidParameter: 400,
  Forbidden: 403,
  Unauthorized: 401,
  Unavailable: 503,
  NotModified: 304,
  NotImplemented: 501,
  System: 500,
};

export function statusOf(err: unknown): number {
  return err instanceof BerthError ? STATUS[err.kind] : 500;
}

/** Send an error as Docker does: `{"message": "..."}` with exactly `application/json`. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status >= 500) log.error('request failed', { error: message, stack: err instanceof Error ? err.stack : undefined });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.writeHead(304).end();
    return;
  }
  const body = JSON.stringify({ message }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
