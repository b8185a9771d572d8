// Registry login through the daemon (POST /auth), and the X-Registry-Auth header encoding.

import type { Transport } from './transport.ts';

export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
}

export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** X-Registry-Auth: base64url of the JSON credentials (Go's URLEncoding, padded); `e30=` = `{}`. */
export function encodeRegistryAuth(auth: AuthConfig | undefined): string {
  if (!auth) return 'e30=';
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export class AuthApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Check credentials against a registry; rejects (401) when the registry refuses them. */
  login(auth: AuthConfig): Promise<AuthResponse> {
    return this.transport.json<AuthResponse>({ method: 'POST', path: '/auth', json: auth });
  }
}
