// HTTP/1.1 to berthd (or any Docker-API daemon) over a UNIX socket or TCP, with node:http and a
// keep-alive agent. node:http rather than undici: the CLI's start-up budget is ~100 ms and
// node:http is already in the runtime snapshot.
import type * as HttpModule from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { API_VERSION, compareApiVersions } from '../api/version.ts';
import { DaemonUnreachable, errorBodyMessage, errorForStatus } from './errors.ts';

// getBuiltinModule, not `import http from 'node:http'`: the ESM facade of node:http enumerates its
// lazy exports (WebSocket, …) and so loads all of undici, ~40 ms of a ~100 ms CLI budget.
const http = process.getBuiltinModule('node:http') as typeof HttpModule;
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

function headerValue(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class Transport {
  readonly host: string;
  private readonly endpoint: Endpoint;
  private readonly agent: HttpModule.Agent;
  private readonly tls: TlsMaterial | undefined;
  private readonly userAgent: string;
  private readonly pinnedVersion: string | undefined;
  private negotiated: Promise<string> | undefined;
  private pingResult: PingResult | undefined;

  constructor(options: TransportOptions = {}) {
    const env = options.env ?? process.env;
    this.host = resolveHost(options.host, env);
    this.endpoint = parseHost(this.host);
    this.tls = this.endpoint.socketPath ? undefined : resolveTls(options.tls, env);
    // node:https only when TLS is asked for: it costs start-up time otherwise.
    this.agent = this.tls ? new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true, ...this.tls }) : new http.Agent({ keepAlive: true });
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
    const header = (name: string): string | undefined => headerValue(res, name);
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

  private baseRequestOptions(method: string, path: string, headers: Record<string, string>): HttpModule.RequestOptions {
    const options: HttpModule.RequestOptions & { checkServerIdentity?: unknown; servername?: string } = {
      ...this.endpoint,
      method,
      path,
      headers: { Host: 'api.moby.localhost', 'User-Agent': this.userAgent, ...headers },
      // No TLS server name for plain HTTP. Left unset, Node's agent derives one from the Host
      // header and tests it with net.isIP, whose IPv6 pattern costs ~5 ms to compile on the
      // first request of a CLI process.
      servername: '',
    };
    if (this.tls) {
      // Node would take the server name from the Host header (api.moby.localhost, as docker
      // sends it); the certificate names the daemon's address.
      const hostname = this.endpoint.hostname ?? '';
      const tlsModule = process.getBuiltinModule('node:tls');
      if (!/^[\d.]+$|:/.test(hostname)) options.servername = hostname; // no SNI for IP addresses
      options.checkServerIdentity = (_host: string, cert: import('node:tls').PeerCertificate) => tlsModule.checkServerIdentity(hostname, cert);
    }
    return options;
  }

  /** One HTTP exchange, no version prefix and no status check. */
  private raw(options: RequestOptions & { fullPath?: string }): Promise<IncomingMessage> {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | undefined;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json) + '\n';
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (options.body) {
      headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
      headers['Transfer-Encoding'] = 'chunked';
    } else if (options.contentType) {
      headers['Content-Type'] = options.contentType;
    }
    const path = options.fullPath ?? options.path;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = this.tls ? process.getBuiltinModule('node:https').request : http.request;
      const req = request({ ...this.baseRequestOptions(method, path, headers), agent: this.agent, signal: options.signal });
      req.once('response', resolve);
      req.once('error', (err) => reject(this.connectionError(err)));
      if (payload !== undefined) req.end(payload);
      else if (options.body) {
        options.body.once('error', (err) => req.destroy(err));
        options.body.pipe(req);
      } else req.end();
    });
  }

  private connectionError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ENOTSOCK') {
      return new DaemonUnreachable(this.host, err);
    }
    return err;
  }

  /** Send a request; resolve with the response once its status is a success (<400, or 304). */
  async request(options: RequestOptions): Promise<IncomingMessage> {
    // A request that can be sent twice (no streamed body) does not wait for a ping: it goes out at
    // our API version and its answer's Api-Version header settles the negotiation. A daemon older
    // than us refuses it with 400 "client version … is too new. Maximum supported API version is
    // N" before doing anything; it is then sent again at N. Saves `berth run` and every other
    // command the ping's round trip.
    const optimistic = !options.body && !this.pinnedVersion && !this.negotiated;
    const version = optimistic ? API_VERSION : await this.apiVersion();
    let res = await this.raw({ ...options, fullPath: `/v${version}${options.path}${encodeQuery(options.query)}` });
    if (optimistic) {
      const server = headerValue(res, 'api-version');
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
      'Content-Length': String(Buffer.byteLength(payload)),
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    const endpoint = this.endpoint;
    const tls = this.tls;
    const socket = await new Promise<Duplex>((resolve, reject) => {
      const req = http.request({
        ...this.baseRequestOptions('POST', fullPath, headers),
        // allowHalfOpen: our FIN must not make Node tear down the read side (docker-api-trace §3.3)
        agent: false,
        createConnection: () =>
          endpoint.socketPath
            ? net.createConnection({ path: endpoint.socketPath, allowHalfOpen: true })
            : net.createConnection({ host: endpoint.hostname, port: endpoint.port ?? 2375, allowHalfOpen: true }),
        // Over TLS: no agent, so that Node uses this createConnection (with `agent: false` it makes
        // a plain Agent of its own). The TLS socket inherits allowHalfOpen from the TCP one.
        ...(tls
          ? {
              agent: undefined,
              createConnection: () =>
                process.getBuiltinModule('node:tls').connect({
                  socket: net.createConnection({ host: endpoint.hostname, port: endpoint.port ?? 2376, allowHalfOpen: true }),
                  ...tls,
                  checkServerIdentity: (_host: string, cert: import('node:tls').PeerCertificate) => process.getBuiltinModule('node:tls').checkServerIdentity(endpoint.hostname ?? '', cert),
                }),
            }
          : {}),
      });
      req.once('upgrade', (res: IncomingMessage, sock: Duplex, head: Buffer) => {
        if (res.statusCode !== 101) {
          sock.destroy();
          reject(new Error(`unable to upgrade to tcp, received ${res.statusCode}`));
          return;
        }
        if (head.length > 0) sock.unshift(head);
        // The daemon ends the stream when the container is done: finish our side too, so a
        // half-open TLS socket does not outlive the session.
        if (tls) sock.once('end', () => sock.end());
        resolve(Object.assign(sock, { contentType: String(res.headers['content-type'] ?? '') }));
      });
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        void readText(res).then((body) => {
          if (status >= 400) reject(errorForStatus(status, errorBodyMessage(status, body)));
          else reject(new Error(`unable to upgrade to tcp, received ${status}`));
        }, reject);
      });
      req.once('error', (err) => reject(this.connectionError(err)));
      req.end(payload);
    });
    const contentType = (socket as Duplex & { contentType: string }).contentType;
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
    this.agent.destroy();
  }
}

/** Discard a response body; resolves at its end (or error). */
function drain(res: IncomingMessage): Promise<void> {
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
