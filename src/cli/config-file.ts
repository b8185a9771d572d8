// The CLI's config.json in docker's format: `auths` keyed by registry (Docker Hub as
// https://index.docker.io/v1/), each with `auth` = base64(user:password). Kept in $DOCKER_CONFIG
// or ~/.berth, so a docker CLI pointed at the same directory shares the logins.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AuthConfig } from '../client/auth.ts';
import { qualifiedRepo } from './reference.ts';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  [key: string]: unknown;
}

export function configPath(env: NodeJS.ProcessEnv): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.berth');
  return join(dir, 'config.json');
}

export function readConfig(env: NodeJS.ProcessEnv): ConfigFile {
  try {
    return JSON.parse(readFileSync(configPath(env), 'utf8')) as ConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${configPath(env)}: ${(err as Error).message}`);
  }
}

export function writeConfig(env: NodeJS.ProcessEnv, cfg: ConfigFile): void {
  const path = configPath(env);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The config key of a registry: `127.0.0.1:5000`, or Docker Hub's index URL. */
export function registryKey(server: string | undefined): string {
  if (!server) return DOCKER_HUB_KEY;
  const host = server.replace(/^[a-z]+:\/\//i, '').split('/')[0];
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)) return DOCKER_HUB_KEY;
  return host;
}

/** The registry host of an image reference as typed (`busybox` → Docker Hub). */
export function registryOfImage(image: string): string {
  const q = qualifiedRepo(image.split('@')[0]);
  const domain = q.slice(0, q.indexOf('/'));
  return registryKey(domain);
}

/** Stored credentials for a registry key, as AuthConfig. */
export function credentialsFor(env: NodeJS.ProcessEnv, key: string): AuthConfig | undefined {
  const entry = readConfig(env).auths?.[key];
  if (!entry) return undefined;
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: key };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1), serveraddress: key };
}
