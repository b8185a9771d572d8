// Published ports: parse HostConfig.PortBindings (+ -P's ExposedPorts) into mappings, and hold
// each host port with a bound socket while the container runs. The socket never sees traffic (the
// nftables DNAT comes first); it makes conflicts real (EADDRINUSE, as docker-proxy's bind does)
// and lets the kernel pick ephemeral ports.
import net from 'node:net';
import dgram from 'node:dgram';
import { Conflict, InvalidParameter } from '../../lib/errors.ts';
import type { PortMapping } from '../types.ts';

export type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined;

function parseKey(key: string): { port: number; proto: 'tcp' | 'udp'; end: number } {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw new InvalidParameter(`invalid port specification: "${key}"`);
  const proto = (m[3] ?? 'tcp') as string;
  if (proto === 'sctp') throw new InvalidParameter('sctp ports are not supported');
  const port = Number(m[1]);
  const end = m[2] ? Number(m[2]) : port;
  if (port < 1 || end > 65535 || end < port) throw new InvalidParameter(`invalid port specification: "${key}"`);
  return { port, proto: proto as 'tcp' | 'udp', end };
}

/** The wanted mappings (hostPort 0 = ephemeral). Validates without touching the host. */
export function wantedPorts(bindings: PortBindings, exposed: Record<string, object> | null | undefined, publishAll: boolean): PortMapping[] {
  const out: PortMapping[] = [];
  const seen = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, proto, end } = parseKey(key);
    for (const b of list && list.length ? list : [{}]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && !net.isIP(hostIp)) throw new InvalidParameter(`invalid IP address: ${hostIp}`);
      const hp = b.HostPort ?? '';
      const hm = /^(\d*)(?:-(\d+))?$/.exec(hp);
      if (!hm) throw new InvalidParameter(`invalid hostPort: ${hp}`);
      const hostStart = hm[1] ? Number(hm[1]) : 0;
      if (hostStart > 65535) throw new InvalidParameter(`invalid hostPort: ${hp}`);
      for (let p = port; p <= end; p++) {
        out.push({ proto, containerPort: p, hostIp, hostPort: hostStart ? hostStart + (p - port) : 0 });
        seen.add(`${p}/${proto}`);
      }
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, proto, end } = parseKey(key);
      for (let p = port; p <= end; p++) if (!seen.has(`${p}/${proto}`)) out.push({ proto, containerPort: p, hostIp: '', hostPort: 0 });
    }
  }
  return out;
}

type Holder = net.Server | dgram.Socket;

/** Host-port reservations, by key proto/hostIp/hostPort. */
export class PortReservations {
  private readonly held = new Map<string, Holder>();

  /** Bind every mapping (ephemeral ones get their port filled in). All or nothing. */
  async reserve(mappings: PortMapping[]): Promise<PortMapping[]> {
    const done: PortMapping[] = [];
    try {
      for (const m of mappings) done.push(await this.bindOne(m));
      return done;
    } catch (err) {
      this.release(done);
      throw err;
    }
  }

  release(mappings: readonly PortMapping[]): void {
    for (const m of mappings) {
      const k = key(m);
      const h = this.held.get(k);
      if (!h) continue;
      this.held.delete(k);
      h.close();
    }
  }

  releaseAll(): void {
    for (const h of this.held.values()) h.close();
    this.held.clear();
  }

  private async bindOne(m: PortMapping): Promise<PortMapping> {
    const addr = m.hostIp || '0.0.0.0';
    const shown = `${addr.includes(':') ? `[${addr}]` : addr}:${m.hostPort}`;
    const fail = (err: NodeJS.ErrnoException): Error =>
      err.code === 'EADDRINUSE' ? new Conflict(`Bind for ${shown} failed: port is already allocated`) : new InvalidParameter(`failed to bind host port ${shown}/${m.proto}: ${err.message}`);
    if (m.proto === 'udp') {
      const s = dgram.createSocket({ type: addr.includes(':') ? 'udp6' : 'udp4' });
      const port = await new Promise<number>((resolve, reject) => {
        s.once('error', (e) => reject(fail(e)));
        s.bind({ address: addr, port: m.hostPort, exclusive: true }, () => resolve(s.address().port));
      });
      s.unref();
      const out = { ...m, hostPort: port };
      this.held.set(key(out), s);
      return out;
    }
    const srv = net.createServer((c) => c.destroy());
    const port = await new Promise<number>((resolve, reject) => {
      srv.once('error', (e) => reject(fail(e)));
      srv.listen({ host: addr, port: m.hostPort, exclusive: true, ipv6Only: addr === '::' }, () => resolve((srv.address() as net.AddressInfo).port));
    });
    srv.unref();
    const out = { ...m, hostPort: port };
    this.held.set(key(out), srv);
    return out;
  }
}

function key(m: PortMapping): string {
  return `${m.proto}/${m.hostIp}/${m.hostPort}`;
}
