// `POST /auth` (docker login): check credentials against the registry's /v2/ (Basic, or the
// token flow), as dockerd does. berthd keeps nothing: the CLI stores the credentials.
import { InvalidParameter, NotImplemented } from '../../lib/errors.ts';
import type { RegistryCredentials } from '../../registry/client/auth.ts';
import { DEFAULT_DOMAIN } from '../../store/images/reference.ts';
import type { ImageServiceDeps } from './deps.ts';

export interface AuthResult {
  IdentityToken: string;
  Status: string;
}

/** `https://index.docker.io/v1/` → docker.io; `http://host:5000/x` → host:5000. */
export function registryDomain(serveraddress: string | undefined): string {
  let s = (serveraddress ?? '').trim();
  if (s === '') return DEFAULT_DOMAIN;
  s = s.replace(/^[a-z]+:\/\//i, '');
  s = s.split('/')[0];
  if (s === 'index.docker.io' || s === 'registry-1.docker.io' || s === 'docker.io') return DEFAULT_DOMAIN;
  return s;
}

export async function login(deps: ImageServiceDeps, body: RegistryCredentials | undefined): Promise<AuthResult> {
  if (!body || typeof body !== 'object') throw new InvalidParameter('login needs a JSON body with username, password and serveraddress');
  if (!deps.registry) throw new NotImplemented('this berthd has no registry client');
  const domain = registryDomain(body.serveraddress);
  const session = await deps.registry({ domain, credentials: body, purpose: 'login' });
  await session.login();
  return { IdentityToken: '', Status: 'Login Succeeded' };
}
