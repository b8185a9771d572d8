// HTTP/1.1 to berthd (or any Docker-API daemon) over a UNIX socket or TCP (TLS), with keep-alive
// connections. The HTTP itself is http1.ts (why not node:http's client: there).
import type { Duplex, Readable } from 'node:stream';
import { API_VERSION, compareApiVersions } from '../api/version.ts';
import { DaemonUnreachable, errorBodyMessage, errorForStatus } from './errors.ts';
import { Http1Client, HttpResponse, type OutgoingRequest } from './http1.ts';

const net = process.getBuiltinModule('node:net');

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
/** What the docker CLI assumes when a ping carries no Api-Version header. */
export const FALLBACK_API_VERSION = '1.24';

export type QueryValue = string | number | boolean | string[] | undefined | null;
export type Query = Record<string, QueryValue>;

/** TLS for tcp:// hosts, as the docker CLI's --tls/--tlsverify/--tlscacert/--tlscert/--tlskey. */
export interface ClientTlsOptions {
  /** Verify the daemon's certificate against the CA (--tlsverify). */
  verify: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface TransportOptions {
  /** unix:///path, tcp://host:port, or a bare socket path. Defaults from BERTH_HOST / DOCKER_HOST. */
  host?: string;
  /** TLS settings; else DOCKER_TLS_VERIFY / DOCKER_TLS with certificates from DOCKER_CERT_PATH (~/.docker). */
  tls?: ClientTlsOptions;
  /** Pin the API version (no negotiation), like DOCKER_API_VERSION. */
  apiVersion?: string;
  userAgent?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  method?: string;
  path: string;
  query?: Query;
  /** A JSON body (serialised with a trailing newline, as the docker CLI sends). */
  json?: unknown;
  /** A streamed body, sent chunked. */
  body?: Readable;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface PingResult {
  apiVersion: string;
  osType: string;
  experimental: boolean;
  builderVersion?: string;
}

export interface HijackOptions {
  query?: Query;
  json?: unknown;
  /** Copied to the daemon; the write side is half-closed when it ends. Without it: at once. */
  stdin?: Readable;
}

export interface HijackedStream {
  /** Paused until read: for-await, pipe() or resume() (a 'data' listener alone does not start it). */
  socket: Duplex;
  contentType: string;
}

interface Endpoint {
  socketPath?: string;
  hostname?: string;
  port?: number;
}

/** The secure-context options for a TLS connection, or undefined for plain HTTP. */
interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

function readIfExists(path: string): Buffer | undefined {
  const fs = process.getBuiltinModule('node:fs');
  return fs.existsSync(path) ? fs.readFileSync(path) : undefined;
}

/** docker's rules: flags first, then DOCKER_TLS_VERIFY (verify) or DOCKER_TLS (encrypt only). */
export function resolveTls(opt: ClientTlsOptions | undefined, env: NodeJS.ProcessEnv): TlsMaterial | undefined {
  const tls = opt ?? (env.DOCKER_TLS_VERIFY ? { verify: true } : env.DOCKER_TLS ? { verify: false } : undefined);
  if (!tls) return undefined;
  const { join } = process.getBuiltinModule('node:path');
  const dir = env.DOCKER_CERT_PATH || join(process.getBuiltinModule('node:os').homedir(), '.docker');
  return {
    ca: readIfExists(tls.caFile ?? join(dir, 'ca.pem')),
    cert: readIfExists(tls.certFile ?? join(dir, 'cert.pem')),
    key: readIfExists(tls.keyFile ?? join(dir, 'key.pem')),
    rejectUnauthorized: tls.verify,
  };
}

/** host option, else BERTH_HOST, else DOCKER_HOST, else the default socket. */
export function resolveHost(host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return host || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (!m) throw new Error(`unsupported host: ${host} (want unix:///path or tcp://host:port)`);
  return { hostname: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 2375 };
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export class Transport {
  readonly host: string;
  private readonly endpoint: Endpoint;
  private readonly http: Http1Client;
  /** TLS (tcp:// with --tls/--tlsverify or DOCKER_TLS*). */
  private readonly secure: boolean;
  private readonly userAgent: string;
  private readonly pinnedVersion: string | undefined;
  private negotiated: Promise<string> | undefined;
  private pingResult: PingResult | undefined;

  constructor(options: TransportOptions = {}) {
    const env = options.env ?? process.env;
    this.host = resolveHost(options.host, env);
    this.endpoint = parseHost(this.host);
    const tls = this.endpoint.socketPath ? undefined : resolveTls(options.tls, env);
    this.http = new Http1Client(connector(this.endpoint, tls));
    this.secure = tls !== undefined;
    this.userAgent = options.userAgent ?? 'berth-client/0.1.0 (linux)';
    this.pinnedVersion = options.apiVersion || env.BERTH_API_VERSION || env.DOCKER_API_VERSION || undefined;
  }

  /** The API version the client uses: min(ours, the daemon's), negotiated once. */
  apiVersion(): Promise<string> {
    this.negotiated ??= this.negotiate();
    return this.negotiated;
  }

  /** The last ping's answer (negotiating first if needed). */
  async ping(): Promise<PingResult> {
    await this.apiVersion();
    if (this.pingResult && !this.pinnedVersion) return this.pingResult;
    this.pingResult = await this.doPing();
    return this.pingResult;
  }

  private async negotiate(): Promise<string> {
    const ping = await this.doPing();
    this.pingResult = ping;
    // a pinned version still pings (as docker does) but never downgrades
    if (this.pinnedVersion) return this.pinnedVersion;
    return compareApiVersions(ping.apiVersion, API_VERSION) < 0 ? ping.apiVersion : API_VERSION;
  }

  private async doPing(): Promise<PingResult> {
    let res = await this.raw({ method: 'HEAD', path: '/_ping' });
    // docker's rule: 200 and 500 still carry usable headers; anything else → retry with GET
    if (res.statusCode !== 200 && res.statusCode !== 500) {
      res.resume();
      res = await this.raw({ method: 'GET', path: '/_ping' });
    }
    // wait for the (empty) body's end: only then is the keep-alive socket back in the pool for
    // the next request (else that one opens a second connection)
    await drain(res);
    const header = (name: string): string | undefined => res.headers[name];
    return {
      apiVersion: header('api-version') || FALLBACK_API_VERSION,
      osType: header('ostype') ?? '',
      experimental: header('docker-experimental') === 'true',
      builderVersion: header('builder-version'),
    };
  }

  private async versionedPath(path: string, query: Query | undefined): Promise<string> {
    const version = await this.apiVersion();
    return `/v${version}${path}${encodeQuery(query)}`;
  }

  private outgoing(method: string, path: string, headers: Record<string, string>, body?: string | Readable, signal?: AbortSignal): OutgoingRequest {
    return { method, path, headers: { Host: 'api.moby.localhost', 'User-Agent': this.userAgent, ...headers }, body, signal };
  }

  /** One HTTP exchange, no version prefix and no status check. */
  private async raw(options: RequestOptions & { fullPath?: string }): Promise<HttpResponse> {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Readable | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json) + '\n';
      headers['Content-Type'] = options.contentType ?? 'application/json';
    } else if (options.body) {
      body = options.body;
      headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
    } else if (options.contentType) {
      headers['Content-Type'] = options.contentType;
    }
    const path = options.fullPath ?? options.path;
    try {
      return await this.http.request(this.outgoing(method, path, headers, body, options.signal));
    } catch (err) {
      throw this.connectionError(err as Error);
    }
  }

  private connectionError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ENOTSOCK') {
      return new DaemonUnreachable(this.host, err);
    }
    return err;
  }

  /** Send a request; resolve with the response once its status is a success (<400, or 304). */
  async request(options: RequestOptions): Promise<HttpResponse> {
    // A request that can be sent twice (no streamed body) does not wait for a ping: it goes out at
    // our API version and its answer's Api-Version header settles the negotiation. A daemon older
    // than us refuses it with 400 "client version … is too new. Maximum supported API version is
    // N" before doing anything; it is then sent again at N. Saves `berth run` and every other
    // command the ping's round trip.
    const optimistic = !options.body && !this.pinnedVersion && !this.negotiated;
    const version = optimistic ? API_VERSION : await this.apiVersion();
    let res = await this.raw({ ...options, fullPath: `/v${version}${options.path}${encodeQuery(options.query)}` });
    if (optimistic) {
      const server = res.headers['api-version'];
      const older = server && compareApiVersions(server, API_VERSION) < 0 ? server : undefined;
      // a daemon without the header is taken as docker takes it after a ping (FALLBACK_API_VERSION)
      this.negotiated ??= Promise.resolve(server ? (older ?? API_VERSION) : FALLBACK_API_VERSION);
      if (res.statusCode === 400) {
        const body = await readText(res);
        // a HEAD's refusal has no body: the header says the daemon's version then
        const max = /Maximum supported API version is (\d+\.\d+)/.exec(body)?.[1] ?? older;
        if (!max) throw errorForStatus(400, errorBodyMessage(400, body));
        this.negotiated = Promise.resolve(max);
        res = await this.raw({ ...options, fullPath: await this.versionedPath(options.path, options.query) });
      }
    }
    const status = res.statusCode ?? 0;
    if (status === 304) {
      res.resume();
      throw errorForStatus(304, 'not modified');
    }
    if (status >= 400) {
      const body = await readText(res);
      throw errorForStatus(status, errorBodyMessage(status, body));
    }
    return res;
  }

  /** A JSON request/response. Resolves undefined for empty bodies (204, 201 without body). */
  async json<T>(options: RequestOptions): Promise<T> {
    const res = await this.request(options);
    const text = await readText(res);
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A request whose answer is ignored (204/200 empty); 304 counts as success. */
  async send(options: RequestOptions): Promise<{ notModified: boolean }> {
    try {
      const res = await this.request(options);
      await readText(res);
      return { notModified: false };
    } catch (err) {
      if (err instanceof Error && (err as { kind?: string }).kind === 'NotModified') return { notModified: true };
      throw err;
    }
  }

  /**
   * Attach/exec: an upgrade request that must be answered 101; returns the raw socket. The socket
   * is half-open capable: we end our write side when stdin ends (or at once without stdin) and keep
   * reading output until the daemon closes.
   */
  async hijack(path: string, options: HijackOptions = {}): Promise<HijackedStream> {
    const fullPath = await this.versionedPath(path, options.query);
    const payload = options.json !== undefined ? JSON.stringify(options.json) + '\n' : '';
    const headers: Record<string, string> = {
      'Content-Type': options.json !== undefined ? 'application/json' : 'text/plain',
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    let upgraded;
    try {
      upgraded = await this.http.upgrade(this.outgoing('POST', fullPath, headers, payload));
    } catch (err) {
      throw this.connectionError(err as Error);
    }
    if (upgraded instanceof HttpResponse) {
      const status = upgraded.statusCode;
      const body = await readText(upgraded);
      if (status >= 400) throw errorForStatus(status, errorBodyMessage(status, body));
      throw new Error(`unable to upgrade to tcp, received ${status}`);
    }
    const socket = upgraded.socket;
    // The daemon ends the stream when the container is done: finish our side too, so a
    // half-open TLS socket does not outlive the session.
    if (this.secure) socket.once('end', () => socket.end());
    const contentType = upgraded.headers['content-type'] ?? '';
    const stdin = options.stdin;
    if (stdin) {
      stdin.on('data', (chunk: Buffer) => {
        if (!socket.write(chunk)) {
          stdin.pause();
          socket.once('drain', () => stdin.resume());
        }
      });
      stdin.once('end', () => socket.end());
      socket.once('close', () => stdin.pause());
    } else {
      socket.end();
    }
    return { socket, contentType };
  }

  /** Drop pooled sockets so the process can exit. */
  close(): void {
    this.http.close();
  }
}

/**
 * How the client's connections are made: the UNIX socket, or TCP, wrapped in TLS when asked.
 * Upgraded (attach/exec) connections are half-open capable: our end of input must not make Node
 * tear down the read side (docker-api-trace §3.3); a TLS socket inherits that from its TCP one.
 */
function connector(endpoint: Endpoint, tls: TlsMaterial | undefined): (opts: { allowHalfOpen: boolean }) => Duplex {
  if (endpoint.socketPath) {
    const path = endpoint.socketPath;
    return ({ allowHalfOpen }) => net.createConnection({ path, allowHalfOpen });
  }
  const host = endpoint.hostname ?? 'localhost';
  const port = endpoint.port ?? 2375;
  if (!tls) return ({ allowHalfOpen }) => net.createConnection({ host, port, allowHalfOpen });
  return ({ allowHalfOpen }) => {
    const tlsModule = process.getBuiltinModule('node:tls');
    return tlsModule.connect({
      socket: net.createConnection({ host, port, allowHalfOpen }),
      ...tls,
      // the certificate names the daemon's address (not api.moby.localhost, the Host header)
      servername: /^[\d.]+$|:/.test(host) ? undefined : host, // no SNI for IP addresses
      checkServerIdentity: (_name: string, cert: import('node:tls').PeerCertificate) => tlsModule.checkServerIdentity(host, cert),
    });
  };
}

/** Discard a response body; resolves at its end (or error). */
function drain(res: HttpResponse): Promise<void> {
  if (res.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('end', resolve);
    res.once('error', () => resolve());
    res.resume();
  });
}

export function readText(res: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

/** JSON lines (`\n` or `\r\n` separated) of a streaming response, one parsed object each. */
export async function* jsonLines<T>(stream: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield JSON.parse(rest) as T;
}
