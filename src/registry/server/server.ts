// The registry server as a library: `startRegistry()` is what `berth registry serve` runs and what
// tests (and, later, berthd) embed.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { allowAll, BasicAuthorizer, Htpasswd, loadTokenVerifyOptions, TokenAuthorizer, type Authorizer } from './auth.ts';
import { createRegistryHandler } from './handler.ts';
import { RegistryStorage } from './storage.ts';
import { TokenIssuer } from './token.ts';

export interface RegistryServerOptions {
  /** `host:port`; port 0 picks a free one. Default 127.0.0.1:5000. */
  addr?: string;
  /** The registry's content directory. */
  storage: string;
  tls?: { cert: string; key: string };
  /** An htpasswd file (bcrypt): Basic auth, or the users of the built-in token server. */
  htpasswd?: string;
  /** Bearer tokens from an external token server, verified with `tokenKey` (PEM public key or cert). */
  tokenRealm?: string;
  tokenKey?: string;
  tokenService?: string;
  tokenIssuer?: string;
  /** Serve `/token` and require its tokens (Docker's token flow, all in one process). */
  issueTokens?: boolean;
  readOnly?: boolean;
}

export interface RunningRegistry {
  server: Server;
  storage: RegistryStorage;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the registry host as image references name it. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid address ${addr} (host:port)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}

export async function startRegistry(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const storage = new RegistryStorage(opts.storage);
  const htpasswd = opts.htpasswd ? new Htpasswd(opts.htpasswd) : undefined;
  const { host, port } = parseAddr(opts.addr ?? '127.0.0.1:5000');
  const service = opts.tokenService ?? 'berth-registry';
  let authorizer: Authorizer = allowAll;
  let issuer: TokenIssuer | undefined;
  if (opts.issueTokens) {
    issuer = await TokenIssuer.create({ service, issuer: opts.tokenIssuer, htpasswd });
    authorizer = new TokenAuthorizer(issuer.keys);
  } else if (opts.tokenRealm) {
    if (!opts.tokenKey) throw new Error('--token-realm needs --token-key (the token server\'s public key or certificate)');
    authorizer = new TokenAuthorizer(loadTokenVerifyOptions({ realm: opts.tokenRealm, service, issuer: opts.tokenIssuer, keyFile: opts.tokenKey }));
  } else if (htpasswd) {
    authorizer = new BasicAuthorizer(htpasswd);
  }
  const scheme = opts.tls ? 'https' : 'http';
  const handler = createRegistryHandler({ storage, authorizer, issuer, readOnly: opts.readOnly, scheme });
  const serverOptions = { keepAlive: true, keepAliveTimeout: 30_000, requestTimeout: 0, headersTimeout: 60_000 };
  const server = opts.tls
    ? createHttpsServer({ ...serverOptions, cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) }, handler)
    : createHttpServer(serverOptions, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    storage,
    url: `${scheme}://${hostPart}:${actual}`,
    host: `${hostPart}:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
