// A distribution-spec client for one registry domain (undici): ping and auth, manifests, blob
// download with redirects and Range resume, upload (cross-repository mount, monolithic PUT).
import { Agent, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import { BerthError, Unauthorized, Unavailable, type ErrorKind } from '../../lib/errors.ts';
import { MANIFEST_ACCEPT } from '../manifest.ts';
import { basicHeader, parseChallenge, type Challenge, type RegistryCredentials } from './auth.ts';
import { endpointsFor, tlsOptionsFor, type Endpoint, type RegistryConfig } from './hosts.ts';

const USER_AGENT = 'berth/0.1 (registry client)';

/** A registry answered with an error status; `code` is the spec's error code when it sent one. */
export class RegistryRequestError extends BerthError {
  readonly status: number;
  readonly code: string | undefined;
  constructor(kind: ErrorKind, status: number, code: string | undefined, message: string) {
    super(kind, message);
    this.status = status;
    this.code = code;
  }
}

function kindOf(status: number): ErrorKind {
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 400 || status === 405 || status === 409 || status === 416) return 'InvalidParameter';
  if (status === 429 || status === 503) return 'Unavailable';
  return 'System';
}

// One agent per host and trust settings, shared by every client in the process (connection reuse).
const agents = new Map<string, Agent>();
// The scheme that worked for an insecure host (https is tried first, as dockerd does).
const schemes = new Map<string, 'https' | 'http'>();

function agentFor(cfg: RegistryConfig, host: string): Agent {
  const tls = tlsOptionsFor(cfg, host);
  const key = `${host}|${cfg.certsDir}|${tls.rejectUnauthorized}`;
  let a = agents.get(key);
  if (!a) {
    a = new Agent({ connect: { ...tls, timeout: 10_000 }, keepAliveTimeout: 30_000, connections: 16 });
    agents.set(key, a);
  }
  return a;
}

export interface BlobResponse {
  body: Readable;
  /** Bytes in this response (after `start`). */
  size: number;
}

interface SendOptions {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path (`/v2/…`) or absolute URL (an upload Location). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  /** Extra scopes beyond this client's repository scope (a mount's source). */
  scopes?: string[];
  signal?: AbortSignal;
}

export interface RegistryClientOptions {
  config: RegistryConfig;
  /** The domain as references name it: `127.0.0.1:5000`, `docker.io`. */
  domain: string;
  credentials?: RegistryCredentials;
  purpose: 'pull' | 'push' | 'login';
}

export class RegistryClient {
  readonly domain: string;
  private readonly config: RegistryConfig;
  private readonly credentials?: RegistryCredentials;
  private readonly purpose: 'pull' | 'push' | 'login';
  private readonly endpoints: Endpoint[];
  private base?: { url: string; agent: Agent; mirror: boolean };
  private challenge?: Challenge;
  private readonly tokens = new Map<string, string>();

  constructor(opts: RegistryClientOptions) {
    this.domain = opts.domain;
    this.config = opts.config;
    this.credentials = opts.credentials;
    this.purpose = opts.purpose;
    this.endpoints = endpointsFor(opts.config, opts.domain, opts.purpose);
  }

  /** The base URL in use (after `ping`). */
  get url(): string | undefined {
    return this.base?.url;
  }

  /** The repository path on the endpoint (a docker.io mirror serves `library/busybox` as is). */
  private repoScope(repo: string): string {
    return `repository:${repo}:${this.purpose === 'push' ? 'pull,push' : 'pull'}`;
  }

  /**
   * Find a working endpoint (`GET /v2/`): the first that answers, trying https before http on
   * insecure hosts. Learns the auth challenge. Connection failures of every endpoint are thrown.
   */
  async ping(): Promise<void> {
    if (this.base) return;
    let lastErr: unknown;
    for (const ep of this.endpoints) {
      const agent = agentFor(this.config, ep.host);
      const known = schemes.get(ep.host);
      // a CA configured for the host (certs.d) means TLS is expected: no plain-HTTP fallback
      const tlsExpected = tlsOptionsFor(this.config, ep.host).ca !== undefined;
      const candidates: Array<'https' | 'http'> = ep.scheme ? [ep.scheme] : tlsExpected ? ['https'] : known ? [known] : ['https', 'http'];
      for (const scheme of candidates) {
        const url = `${scheme}://${ep.host}`;
        try {
          const res = await agent.request({ origin: url, path: '/v2/', method: 'GET', headers: { 'User-Agent': USER_AGENT }, headersTimeout: 30_000 });
          await res.body.dump();
          if (res.statusCode !== 200 && res.statusCode !== 401) {
            lastErr = new Unavailable(`${url}/v2/ answered ${res.statusCode}: not a registry`);
            continue;
          }
          if (!ep.scheme) schemes.set(ep.host, scheme);
          this.base = { url, agent, mirror: ep.mirror };
          if (res.statusCode === 401) this.challenge = parseChallenge(res.headers['www-authenticate']);
          return;
        } catch (err) {
          lastErr = err;
          // the host may have switched between TLS and plain HTTP since we last talked to it
          if (known && !ep.scheme && !tlsExpected && candidates.length === 1) {
            schemes.delete(ep.host);
            candidates.push(known === 'https' ? 'http' : 'https');
          }
        }
      }
    }
    const reason = lastErr instanceof Error ? ((lastErr as { cause?: Error }).cause?.message ?? lastErr.message) : String(lastErr);
    if (lastErr instanceof BerthError) throw lastErr;
    throw new Unavailable(`Get "${this.endpoints[0].scheme ?? 'https'}://${this.endpoints[0].host}/v2/": ${reason}`);
  }

  /** Check credentials the way `docker login` does: /v2/ must answer 200 with them. */
  async login(): Promise<void> {
    await this.ping();
    if (!this.challenge) return;
    const auth = await this.authorization([], true);
    const res = await this.base!.agent.request({ origin: this.base!.url, path: '/v2/', method: 'GET', headers: { 'User-Agent': USER_AGENT, ...(auth ? { Authorization: auth } : {}) } });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Unauthorized(`login attempt to ${this.base!.url}/v2/ failed with status: ${res.statusCode} ${res.statusCode === 401 ? 'Unauthorized' : ''}`.trim());
  }

  /** The Authorization header for these scopes, fetching a token if the registry wants one. */
  private async authorization(scopes: string[], fresh = false): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = this.credentials;
    if (ch.scheme === 'basic') return creds ? basicHeader(creds) : undefined;
    if (creds?.registrytoken) return `Bearer ${creds.registrytoken}`;
    const key = scopes.join(' ');
    if (!fresh) {
      const cached = this.tokens.get(key);
      if (cached) return `Bearer ${cached}`;
    }
    const token = await this.fetchToken(ch, scopes);
    this.tokens.set(key, token);
    return `Bearer ${token}`;
  }

  private async fetchToken(ch: Challenge, scopes: string[]): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new Unauthorized('registry asked for a bearer token without a realm');
    const u = new URL(realm);
    const agent = agentFor(this.config, u.host);
    const creds = this.credentials;
    let res: Dispatcher.ResponseData;
    if (creds?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identitytoken, client_id: 'berth', service: ch.params.service ?? '' });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await agent.request({ origin: u.origin, path: u.pathname + u.search, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': USER_AGENT }, body: form.toString() });
    } else {
      const q = new URLSearchParams(u.search);
      if (ch.params.service) q.set('service', ch.params.service);
      for (const s of scopes) q.append('scope', s);
      if (creds?.username) q.set('account', creds.username);
      const basic = creds ? basicHeader(creds) : undefined;
      res = await agent.request({ origin: u.origin, path: `${u.pathname}?${q.toString()}`, method: 'GET', headers: { 'User-Agent': USER_AGENT, ...(basic ? { Authorization: basic } : {}) } });
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw new Unauthorized(`getting a token from ${u.origin}${u.pathname} failed with status: ${res.statusCode}${res.statusCode === 401 ? ' Unauthorized' : ''}`);
    }
    const body = JSON.parse(text) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Unauthorized('token server answered without a token');
    return token;
  }

  /** One request with auth; a 401 on a replayable request refreshes the token and retries once. */
  private async send(repo: string | undefined, opts: SendOptions): Promise<Dispatcher.ResponseData> {
    await this.ping();
    const base = this.base!;
    const scopes = repo ? [this.repoScope(repo), ...(opts.scopes ?? [])] : [...(opts.scopes ?? [])];
    const target = new URL(opts.path, base.url);
    const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization(scopes, attempt > 0);
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...(opts.headers ?? {}) };
      if (auth) headers.Authorization = auth;
      let res: Dispatcher.ResponseData;
      try {
        res = await base.agent.request({ origin: target.origin, path: target.pathname + target.search, method: opts.method, headers, body: opts.body ?? null, headersTimeout: 60_000, bodyTimeout: 120_000, signal: opts.signal });
      } catch (err) {
        const reason = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new Unavailable(`${opts.method} ${target.href}: ${reason}`, { cause: err });
      }
      if (res.statusCode === 401 && attempt === 0 && replayable) {
        const ch = parseChallenge(res.headers['www-authenticate']);
        await res.body.dump();
        if (ch) this.challenge = ch;
        // anonymous and refused: a fresh token would grant no more
        if (ch?.params.error === 'insufficient_scope' && !this.credentials) throw new RegistryRequestError('Unauthorized', 401, 'UNAUTHORIZED', 'unauthorized: authentication required');
        continue;
      }
      return res;
    }
  }

  private async errorOf(res: Dispatcher.ResponseData, status = res.statusCode): Promise<RegistryRequestError> {
    let code: string | undefined;
    let message = `${status}`;
    try {
      const text = await res.body.text();
      const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      const e = body.errors?.[0];
      if (e) {
        code = e.code;
        message = `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.trim();
      }
    } catch {
      /* not a registry error body */
    }
    return new RegistryRequestError(kindOf(status), status, code, message);
  }

  private async expect(res: Dispatcher.ResponseData, ok: number[]): Promise<void> {
    if (!ok.includes(res.statusCode)) throw await this.errorOf(res);
  }

  /** Fetch a manifest by tag or digest. */
  async getManifest(repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest?: string }> {
    const res = await this.send(repo, { method: 'GET', path: `/v2/${repo}/manifests/${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
    await this.expect(res, [200]);
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const ct = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    const dcd = res.headers['docker-content-digest'];
    return { bytes, mediaType: ct, digest: typeof dcd === 'string' ? dcd : undefined };
  }

  /** Digest and size of a manifest (HEAD), or undefined if the registry does not have it. */
  async headManifest(repo: string, ref: string): Promise<{ digest?: string; size: number; mediaType: string } | undefined> {
    const res = await this.send(repo, { method: 'HEAD', path: `/v2/${repo}/manifests/${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) throw new RegistryRequestError(kindOf(res.statusCode), res.statusCode, undefined, `HEAD manifest ${ref}: ${res.statusCode}`);
    const dcd = res.headers['docker-content-digest'];
    return { digest: typeof dcd === 'string' ? dcd : undefined, size: Number(res.headers['content-length'] ?? 0), mediaType: String(res.headers['content-type'] ?? '') };
  }

  /** Stream a blob from `start`, following redirects (without credentials to another origin). */
  async getBlob(repo: string, digest: string, start = 0, signal?: AbortSignal): Promise<BlobResponse> {
    const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
    let res = await this.send(repo, { method: 'GET', path: `/v2/${repo}/blobs/${digest}`, headers, signal });
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.statusCode) && hops < 5; hops++) {
      const loc = res.headers.location;
      await res.body.dump();
      if (typeof loc !== 'string') throw new Unavailable(`redirect without Location for blob ${digest}`);
      const u = new URL(loc, this.base!.url);
      const agent = agentFor(this.config, u.host);
      res = await agent.request({ origin: u.origin, path: u.pathname + u.search, method: 'GET', headers: { 'User-Agent': USER_AGENT, ...headers }, signal });
    }
    if (start > 0 && res.statusCode === 200) {
      // the server ignored Range: skip what we have
      await this.expect(res, [200]);
      return { body: skipBytes(res.body, start), size: Number(res.headers['content-length'] ?? 0) - start };
    }
    await this.expect(res, start > 0 ? [206] : [200]);
    return { body: res.body, size: Number(res.headers['content-length'] ?? -1) };
  }

  /** Every tag of a repository (following `Link` pagination). */
  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list`;
    for (let pages = 0; path && pages < 100; pages++) {
      const res = await this.send(repo, { method: 'GET', path });
      await this.expect(res, [200]);
      const body = (await res.body.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = res.headers.link;
      const next = typeof link === 'string' ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
      path = next;
    }
    return tags;
  }

  /** Size of a blob in `repo`, or undefined when the registry does not have it there. */
  async headBlob(repo: string, digest: string): Promise<number | undefined> {
    const res = await this.send(repo, { method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode === 200 || res.statusCode === 307 || res.statusCode === 302) return Number(res.headers['content-length'] ?? 0);
    throw new RegistryRequestError(kindOf(res.statusCode), res.statusCode, undefined, `HEAD blob ${digest}: ${res.statusCode}`);
  }

  /**
   * Upload a blob (POST, then one PUT with the whole body). With `mountFrom`, the registry may link
   * the blob from that repository instead: returns 'mounted' then, and `open` is never called.
   */
  async uploadBlob(repo: string, digest: string, size: number, open: () => Readable, mountFrom?: string): Promise<'pushed' | 'mounted'> {
    const q = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const res = await this.send(repo, { method: 'POST', path: `/v2/${repo}/blobs/uploads/${q}`, scopes: mountFrom ? [`repository:${mountFrom}:pull`] : [], headers: { 'Content-Length': '0' } });
    if (res.statusCode === 201) {
      await res.body.dump();
      return 'mounted';
    }
    await this.expect(res, [202]);
    await res.body.dump();
    const loc = res.headers.location;
    if (typeof loc !== 'string') throw new Unavailable('registry started an upload without a Location');
    const u = new URL(loc, this.base!.url);
    u.searchParams.set('digest', digest);
    const put = await this.send(repo, {
      method: 'PUT',
      path: u.href,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      body: open(),
    });
    await this.expect(put, [201, 204]);
    await put.body.dump();
    return 'pushed';
  }

  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.send(repo, { method: 'PUT', path: `/v2/${repo}/manifests/${ref}`, headers: { 'Content-Type': mediaType }, body: bytes });
    await this.expect(res, [201, 200, 202]);
    await res.body.dump();
    const dcd = res.headers['docker-content-digest'];
    return typeof dcd === 'string' ? dcd : undefined;
  }
}

function skipBytes(src: Readable, n: number): Readable {
  let left = n;
  return Readable.from((async function* () {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      if (left >= chunk.length) {
        left -= chunk.length;
        continue;
      }
      yield left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
    }
  })());
}
