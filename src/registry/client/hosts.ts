// Which URL serves a registry domain, and how to trust it: dockerd's registry-mirrors (docker.io
// only), insecure-registries (plain HTTP allowed; loopback always), and certs.d CA trust.
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { Unavailable } from '../../lib/errors.ts';

export const DOCKER_HUB = 'docker.io';

export interface RegistryConfig {
  /** Mirror URLs tried for docker.io pulls (`http://127.0.0.1:5000`). */
  mirrors: string[];
  /** `host[:port]` or CIDRs (`10.0.0.0/8`) where plain HTTP and unverified TLS are allowed. */
  insecure: string[];
  /** `<certsDir>/<host[:port]>/*.crt` are CAs; `client.cert` + `client.key` a client certificate. */
  certsDir: string;
}

export const DEFAULT_REGISTRY_CONFIG: RegistryConfig = { mirrors: [], insecure: [], certsDir: '/etc/berth/certs.d' };

/** A base URL to talk to, before the scheme is settled for insecure hosts. */
export interface Endpoint {
  /** `host[:port]` to connect to. */
  host: string;
  /** Settled scheme, or `undefined` for "https, falling back to http" (insecure hosts). */
  scheme?: 'https' | 'http';
  insecure: boolean;
  mirror: boolean;
}

function hostname(hostport: string): string {
  if (hostport.startsWith('[')) return hostport.slice(1, hostport.indexOf(']'));
  const i = hostport.lastIndexOf(':');
  return i > 0 && !hostport.slice(0, i).includes(':') ? hostport.slice(0, i) : hostport;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsRaw] = cidr.split('/');
  const bits = Number(bitsRaw);
  if (isIP(ip) !== 4 || isIP(net) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

export function isLoopback(hostport: string): boolean {
  const h = hostname(hostport).toLowerCase();
  return h === 'localhost' || h === '::1' || inCidr(h, '127.0.0.0/8');
}

/** dockerd's rule: loopback is always insecure; else the host or its IP must be listed. */
export function isInsecure(cfg: RegistryConfig, hostport: string): boolean {
  if (isLoopback(hostport)) return true;
  const h = hostname(hostport);
  return cfg.insecure.some((entry) => entry === hostport || entry === h || (entry.includes('/') && inCidr(h, entry)));
}

function endpointOf(cfg: RegistryConfig, hostport: string, mirror: boolean, scheme?: 'https' | 'http'): Endpoint {
  const insecure = isInsecure(cfg, hostport);
  return { host: hostport, scheme: scheme ?? (insecure ? undefined : 'https'), insecure, mirror };
}

/**
 * Endpoints for a registry domain, in order. docker.io is served only by mirrors (berth never
 * contacts the public hub); without one, this fails fast with the reason.
 */
export function endpointsFor(cfg: RegistryConfig, domain: string, purpose: 'pull' | 'push' | 'login'): Endpoint[] {
  if (domain !== DOCKER_HUB) return [endpointOf(cfg, domain, false)];
  if (purpose !== 'pull' || cfg.mirrors.length === 0) {
    throw new Unavailable(
      purpose === 'pull'
        ? 'cannot pull from docker.io: berth does not contact the public Docker Hub; configure a registry mirror (berthd --registry-mirror URL, or "registry-mirrors" in daemon.json) or pull from a registry by its host name'
        : `cannot ${purpose === 'push' ? 'push to' : 'log in to'} docker.io: berth does not contact the public Docker Hub; name a registry host (e.g. 127.0.0.1:5000/${purpose === 'push' ? 'repo' : ''})`,
    );
  }
  return cfg.mirrors.map((m) => {
    const u = new URL(m);
    return endpointOf(cfg, u.host, true, u.protocol === 'http:' ? 'http' : 'https');
  });
}

/** TLS options for a host from `<certsDir>/<host>/`: extra CAs (added to the system's) and a client cert. */
export function tlsOptionsFor(cfg: RegistryConfig, hostport: string): { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: boolean } {
  const dir = join(cfg.certsDir, hostport);
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    /* no certs.d entry */
  }
  const cas = entries.filter((f) => f.endsWith('.crt')).map((f) => readFileSync(join(dir, f), 'utf8'));
  const certFile = entries.find((f) => f.endsWith('.cert'));
  // An insecure registry skips verification, as with dockerd, unless certs.d names a CA for it:
  // a CA given explicitly is meant to be checked (also on loopback).
  const out: { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: boolean } = { rejectUnauthorized: !isInsecure(cfg, hostport) || cas.length > 0 };
  if (cas.length > 0) out.ca = [...rootCertificates, ...cas];
  if (certFile) {
    const keyFile = certFile.replace(/\.cert$/, '.key');
    if (entries.includes(keyFile)) {
      out.cert = readFileSync(join(dir, certFile), 'utf8');
      out.key = readFileSync(join(dir, keyFile), 'utf8');
    }
  }
  return out;
}
