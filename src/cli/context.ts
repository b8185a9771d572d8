// What every command gets: the process's streams, the global options and a lazily built client.
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../client/index.ts';
import type { ClientTlsOptions } from '../client/transport.ts';

export interface CliOutput extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface CliInput extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

export interface CliIO {
  stdout: CliOutput;
  stderr: CliOutput;
  stdin: CliInput;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  host?: string;
  logLevel?: string;
  /** From --tls/--tlsverify/--tlscacert/--tlscert/--tlskey; else the client reads DOCKER_TLS*. */
  tls?: ClientTlsOptions;
}

export class CliContext {
  readonly io: CliIO;
  readonly globals: GlobalOptions;
  /** How the user invoked the command ("run", "container ls"), for usage and help hints. */
  commandPath = '';
  /** docker-style usage tail, e.g. "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  usage = '';
  private engine: EngineClient | undefined;
  private readonly makeClient: (options: { host?: string; env: NodeJS.ProcessEnv; tls?: ClientTlsOptions }) => EngineClient;

  constructor(options: {
    io: CliIO;
    globals: GlobalOptions;
    makeClient: (options: { host?: string; env: NodeJS.ProcessEnv; tls?: ClientTlsOptions }) => EngineClient;
  }) {
    this.io = options.io;
    this.globals = options.globals;
    this.makeClient = options.makeClient;
  }

  client(): EngineClient {
    this.engine ??= this.makeClient({ host: this.globals.host, env: this.io.env, tls: this.globals.tls });
    return this.engine;
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  close(): void {
    this.engine?.close();
  }
}

/**
 * A failure the command has decided how to report. `message` goes to stderr as is (unless empty:
 * already printed); `usage` adds docker's "Usage:" block and help hint.
 */
export class CliError extends Error {
  readonly exitCode: number;
  readonly usage: boolean;
  /** Add "Run 'berth <cmd> --help' for more information" (implied by usage). */
  readonly hint: boolean;
  constructor(message: string, options: { exitCode?: number; usage?: boolean; hint?: boolean } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
    this.usage = options.usage ?? false;
    this.hint = options.hint ?? this.usage;
  }
}

/** A flag value docker rejects client-side: exit 125 with the usage block, before any request. */
export function invalidFlag(value: string, flag: string, reason: string): CliError {
  return new CliError(`invalid argument "${value}" for "${flag}" flag: ${reason}`, { exitCode: 125, usage: true });
}

/** Exit with a status but print nothing more (the container's exit code, partial failures). */
export class ExitStatus extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit status ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** docker's line for an error: daemon errors get "Error response from daemon: ". */
export async function describeError(err: unknown): Promise<string> {
  const { isDaemonError } = await import('../client/errors.ts');
  const message = err instanceof Error ? err.message : String(err);
  return isDaemonError(err) ? `Error response from daemon: ${message}` : message;
}
