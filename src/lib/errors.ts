// Typed errors. Backends and services throw these; server/errors.ts is the only place that maps
// them to HTTP status codes, and the client maps status codes back to them.

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidParameter'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Unavailable'
  | 'NotModified'
  | 'NotImplemented'
  | 'System';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

export class NotFound extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotFound', message, options);
  }
}
export class Conflict extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Conflict', message, options);
  }
}
export class InvalidParameter extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidParameter', message, options);
  }
}
export class Forbidden extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Forbidden', message, options);
  }
}
export class Unauthorized extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Unauthorized', message, options);
  }
}
export class Unavailable extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Unavailable', message, options);
  }
}
/** Success without change (HTTP 304), e.g. starting a running container. */
export class NotModified extends BerthError {
  constructor(message = 'not modified') {
    super('NotModified', message);
  }
}
export class NotImplemented extends BerthError {
  constructor(message: string) {
    super('NotImplemented', message);
  }
}
/** An unexpected failure of the host (mount, runtime, disk). */
export class SystemError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('System', message, options);
  }
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof BerthError && err.kind === kind;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
