// Client side of registry auth: WWW-Authenticate challenges, Docker's token protocol
// (GET realm?service=&scope= with Basic credentials, or the OAuth2 POST for identity tokens).

/** What X-Registry-Auth carries (docker's AuthConfig). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** Refresh token from a previous login (OAuth2 flow). */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
  serveraddress?: string;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (one challenge; the first if several). */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(h);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme, params };
}

/** Decode X-Registry-Auth (base64url or base64 JSON); `{}` or garbage → no credentials. */
export function decodeRegistryAuth(header: string | undefined): RegistryCredentials | undefined {
  if (!header) return undefined;
  try {
    const json = Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const v = JSON.parse(json) as RegistryCredentials;
    if (!v || typeof v !== 'object') return undefined;
    if (!v.username && !v.password && !v.identitytoken && !v.registrytoken) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

export function basicHeader(c: RegistryCredentials): string | undefined {
  if (c.username === undefined && c.password === undefined) return undefined;
  return 'Basic ' + Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64');
}
