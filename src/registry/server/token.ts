// A built-in token server (`berth registry serve --issue-tokens`): Docker's token protocol
// (GET /token?service=&scope=…, with Basic credentials; and the OAuth2 POST form) issuing ES256
// JWTs that this registry's TokenAuthorizer verifies. Users come from the htpasswd file; without
// one everybody gets what they ask for.
import type { webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basicCredentials, parseScope, type Access, type Htpasswd, type TokenKeys } from './auth.ts';

const TOKEN_TTL_SECONDS = 300;

export class TokenIssuer {
  private readonly privateKey: webcrypto.CryptoKey;
  readonly keys: TokenKeys;
  private readonly htpasswd?: Htpasswd;
  private readonly issuer: string;

  private constructor(privateKey: webcrypto.CryptoKey, publicKey: webcrypto.CryptoKey, opts: { service: string; issuer: string; htpasswd?: Htpasswd }) {
    this.privateKey = privateKey;
    this.keys = { verifyKey: publicKey, service: opts.service, issuer: opts.issuer };
    this.htpasswd = opts.htpasswd;
    this.issuer = opts.issuer;
  }

  static async create(opts: { service: string; issuer?: string; htpasswd?: Htpasswd }): Promise<TokenIssuer> {
    const { generateKeyPair } = await import('jose');
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new TokenIssuer(privateKey, publicKey, { service: opts.service, issuer: opts.issuer ?? 'berth-registry', htpasswd: opts.htpasswd });
  }

  /** Who is asking: a user name, '' for anonymous, undefined for wrong credentials. */
  private async account(user: string | undefined, password: string | undefined): Promise<string | undefined> {
    if (user === undefined) return '';
    if (!this.htpasswd) return user;
    return (await this.htpasswd.check(user, password ?? '')) ? user : undefined;
  }

  /** Authenticated users get what they ask for; anonymous callers too when there is no htpasswd. */
  private grant(account: string, requested: Access[]): Access[] {
    if (this.htpasswd && account === '') return [];
    return requested.map((a) => ({ type: a.type, name: a.name, actions: a.actions.filter((x) => ['pull', 'push', 'delete', '*'].includes(x)) }));
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let params = url.searchParams;
    let user: string | undefined;
    let password: string | undefined;
    const creds = basicCredentials(req);
    if (creds) ({ user, password } = creds);
    let oauth = false;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > 64 * 1024) break;
        chunks.push(c);
      }
      params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      oauth = true;
      if (params.get('grant_type') === 'password') {
        user = params.get('username') ?? undefined;
        password = params.get('password') ?? undefined;
      } else if (params.get('grant_type') === 'refresh_token') {
        // identity tokens are not issued here; a refresh token is the user's password
        user = params.get('username') ?? undefined;
        password = params.get('refresh_token') ?? undefined;
      }
    } else if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET, POST' }).end();
      return;
    }
    const account = await this.account(user, password);
    if (account === undefined) {
      const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication failed', detail: null }] });
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="berth-registry-token"', 'Content-Length': Buffer.byteLength(body) }).end(body);
      return;
    }
    const service = params.get('service') ?? this.keys.service;
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const requested = scopes.map(parseScope).filter((a): a is Access => a !== undefined);
    const access = this.grant(account, requested);
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(account)
      .setAudience(service)
      .setIssuedAt(now)
      .setNotBefore(now - 10)
      .setExpirationTime(now + TOKEN_TTL_SECONDS)
      .setJti(crypto.randomUUID())
      .sign(this.privateKey);
    const payload: Record<string, unknown> = { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date(now * 1000).toISOString() };
    if (oauth) payload.scope = scopes.join(' ');
    const body = JSON.stringify(payload);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  }
}
