// Access control of the registry: none, htpasswd Basic auth, or Docker's bearer-token flow
// (tokens from an external server, verified with its public key, or issued here by /token).
import { createHash, createPublicKey, type KeyObject, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { RegistryError } from './errors.ts';

/** One entry of a token's `access` claim, or what a request needs. */
export interface Access {
  type: string; // "repository" or "registry"
  name: string;
  actions: string[];
}

export interface TokenVerifyOptions {
  realm: string;
  service: string;
  issuer?: string;
  /** PEM: a public key or a certificate. */
  keyFile: string;
}

/** bcrypt hashes per user from an htpasswd file (`user:$2y$…`). Other hash schemes are refused, as in distribution. */
export class Htpasswd {
  private readonly users = new Map<string, string>();
  /** sha256(user:password) of checked successes: bcrypt costs ~50-100 ms a check. */
  private readonly verified = new Set<string>();

  constructor(path: string) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const t = line.trim();
      if (t === '' || t.startsWith('#')) continue;
      const i = t.indexOf(':');
      if (i <= 0) continue;
      const hash = t.slice(i + 1);
      if (!/^\$2[abxy]\$/.test(hash)) throw new Error(`htpasswd: user ${t.slice(0, i)}: only bcrypt hashes are supported`);
      this.users.set(t.slice(0, i), hash);
    }
  }

  async check(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.verified.has(key)) return true;
    const { compare } = await import('bcryptjs');
    // bcryptjs reads $2y$ like $2b$ (they are the same algorithm).
    const ok = await compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    if (ok) this.verified.add(key);
    return ok;
  }
}

/** Basic credentials of a request, if any. */
export function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const h = req.headers.authorization;
  if (!h || !/^basic /i.test(h)) return undefined;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h || !/^bearer /i.test(h)) return undefined;
  return h.slice(7).trim();
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

/** `repository:a/b:pull,push` (the name may hold a port: `repository:host:5000/x:pull`). */
export function parseScope(s: string): Access | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter((x) => x !== '') };
}

/** Whether granted access covers every needed action (`*` covers all). */
export function covers(granted: readonly Access[], needed: Access): boolean {
  const have = new Set<string>();
  for (const g of granted) {
    if (g.type === needed.type && g.name === needed.name) for (const a of g.actions) have.add(a);
  }
  return have.has('*') || needed.actions.every((a) => have.has(a));
}

/** Decides whether a request may proceed; throws UNAUTHORIZED with the challenge otherwise. */
export interface Authorizer {
  /** `needed` is empty for the base endpoint (any authenticated caller). */
  authorize(req: IncomingMessage, needed: readonly Access[], publicUrl: string): Promise<void>;
}

export const allowAll: Authorizer = { authorize: async () => undefined };

export class BasicAuthorizer implements Authorizer {
  private readonly htpasswd: Htpasswd;
  private readonly realm: string;
  constructor(htpasswd: Htpasswd, realm = 'berth-registry') {
    this.htpasswd = htpasswd;
    this.realm = realm;
  }
  async authorize(req: IncomingMessage): Promise<void> {
    const creds = basicCredentials(req);
    if (creds && (await this.htpasswd.check(creds.user, creds.password))) return;
    throw new RegistryError('UNAUTHORIZED', null, { headers: { 'WWW-Authenticate': `Basic realm="${this.realm}"` } });
  }
}

export interface TokenKeys {
  verifyKey: KeyObject | webcrypto.CryptoKey;
  issuer?: string;
  service: string;
  /** The realm; `undefined` = this server's own `/token`. */
  realm?: string;
}

export function loadTokenVerifyOptions(opts: TokenVerifyOptions): TokenKeys {
  const pem = readFileSync(opts.keyFile, 'utf8');
  return { verifyKey: createPublicKey(pem), issuer: opts.issuer, service: opts.service, realm: opts.realm };
}

export class TokenAuthorizer implements Authorizer {
  private readonly keys: TokenKeys;
  constructor(keys: TokenKeys) {
    this.keys = keys;
  }

  private challenge(needed: readonly Access[], publicUrl: string, error?: string): RegistryError {
    const realm = this.keys.realm ?? `${publicUrl}/token`;
    let h = `Bearer realm="${realm}",service="${this.keys.service}"`;
    if (needed.length > 0) h += `,scope="${needed.map(formatScope).join(' ')}"`;
    if (error) h += `,error="${error}"`;
    return new RegistryError('UNAUTHORIZED', needed.length > 0 ? needed.map((a) => ({ Type: a.type, Name: a.name, Action: a.actions.join(',') })) : null, {
      headers: { 'WWW-Authenticate': h },
      message: error === 'insufficient_scope' ? 'authentication required' : undefined,
    });
  }

  async authorize(req: IncomingMessage, needed: readonly Access[], publicUrl: string): Promise<void> {
    const token = bearerToken(req);
    if (!token) throw this.challenge(needed, publicUrl);
    const { jwtVerify } = await import('jose');
    let access: Access[];
    try {
      const { payload } = await jwtVerify(token, this.keys.verifyKey, { audience: this.keys.service, ...(this.keys.issuer ? { issuer: this.keys.issuer } : {}) });
      access = Array.isArray(payload.access) ? (payload.access as Access[]) : [];
    } catch {
      throw this.challenge(needed, publicUrl, 'invalid_token');
    }
    for (const n of needed) if (!covers(access, n)) throw this.challenge(needed, publicUrl, 'insufficient_scope');
  }
}
