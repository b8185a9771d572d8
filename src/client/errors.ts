// HTTP status → typed error. The server maps typed errors to statuses in server/errors.ts; this is
// the inverse, so callers can branch on `isKind(err, 'NotFound')` whether local or remote.
import {
  BerthError,
  Conflict,
  Forbidden,
  InvalidParameter,
  NotFound,
  NotModified,
  SystemError,
  Unauthorized,
  Unavailable,
} from '../lib/errors.ts';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** The daemon's message from an error body: `{"message"}` JSON, else the text verbatim. */
export function errorBodyMessage(status: number, body: string): string {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
      // docker's wording for an error status whose JSON carries no message
      return `API returned a ${status} (${STATUS_TEXT[status] ?? 'Error'}) but provided no error-message`;
    } catch {
      // not JSON after all: show it as the daemon sent it
    }
  }
  return text || `API returned a ${status} (${STATUS_TEXT[status] ?? 'Error'}) but provided no error-message`;
}

// Errors that came back from the daemon (as opposed to connection or client-side failures); the
// CLI prefixes them with "Error response from daemon: " like docker.
const fromDaemon = new WeakSet<object>();

export function isDaemonError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && fromDaemon.has(err);
}

/** A typed error for an HTTP status, carrying the daemon's message. */
export function errorForStatus(status: number, message: string): BerthError {
  const err = typedError(status, message);
  fromDaemon.add(err);
  return err;
}

function typedError(status: number, message: string): BerthError {
  switch (status) {
    case 304:
      return new NotModified(message);
    case 401:
      return new Unauthorized(message);
    case 403:
      return new Forbidden(message);
    case 404:
      return new NotFound(message);
    case 409:
      return new Conflict(message);
    case 503:
      return new Unavailable(message);
    default:
      // containerd errhttp: any other 4xx is an invalid argument, 5xx an internal error
      if (status >= 400 && status < 500) return new InvalidParameter(message);
      return new SystemError(message);
  }
}

/** Raised when the daemon's socket cannot be reached at all. */
export class DaemonUnreachable extends Unavailable {
  readonly host: string;
  constructor(host: string, cause: unknown) {
    super(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`, { cause });
    this.host = host;
  }
}
