// The embedded DNS server of user-defined networks. A socket inside each container's netns would
// need a thread of its own there (berthd enters a netns only for the instant of a socket(2) call,
// os/net/netns-config.ts), so instead of dockerd's 127.0.0.11 inside each container it listens on
// the network's gateway address, port 53 (UDP), and containers' resolv.conf points there. The client's
// source address tells which container asks, hence which networks' names it may see.
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { log } from '../../lib/logger.ts';

export interface DnsAnswerSource {
  /** Addresses for `name` as seen by the container at `client` ([] if ours but none of this family); undefined if the name is not ours. */
  lookup(client: string, name: string, family: 4 | 6): string[] | undefined;
  /** The name for an address (PTR), if it belongs to a container on the client's networks. */
  reverse(client: string, ip: string): string | undefined;
  /** Resolvers for names that are not ours (the container's --dns, or the host's). */
  upstreams(client: string): string[];
}

const NXDOMAIN = 3;
const SERVFAIL = 2;
const TTL = 600;

function ptrToIp(name: string): string | undefined {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/i.exec(name);
  if (v4) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}`;
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/i.exec(name);
  if (v6) {
    const nibbles = v6[1].split('.').filter(Boolean).reverse().join('');
    return nibbles.match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, '')).join(':').replace(/(^|:)(0(:|$)){2,}/, '::');
  }
  return undefined;
}

export class EmbeddedDns {
  private readonly source: DnsAnswerSource;
  private readonly sockets = new Map<string, dgram.Socket>();

  constructor(source: DnsAnswerSource) {
    this.source = source;
  }

  listening(): string[] {
    return [...this.sockets.keys()];
  }

  /** Serve on ip:53 (another port for tests). Idempotent. Resolves with the port. */
  async listen(ip: string, port = 53): Promise<number> {
    const had = this.sockets.get(ip);
    if (had) return had.address().port;
    const sock = dgram.createSocket({ type: ip.includes(':') ? 'udp6' : 'udp4' });
    sock.on('message', (msg, rinfo) => this.handle(sock, msg, rinfo));
    sock.on('error', (err) => log.warn('embedded DNS socket error', { ip, error: err.message }));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: ip, port, exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.unref();
    this.sockets.set(ip, sock);
    return sock.address().port;
  }

  close(ip: string): void {
    const s = this.sockets.get(ip);
    if (!s) return;
    this.sockets.delete(ip);
    s.close();
  }

  closeAll(): void {
    for (const ip of [...this.sockets.keys()]) this.close(ip);
  }

  private handle(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q || query.type === 'response') return;
    const name = q.name.replace(/\.$/, '').toLowerCase();
    const reply = (answers: dnsPacket.Answer[], rcode = 0): void => {
      const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode;
      const out = dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [q], answers });
      sock.send(out, rinfo.port, rinfo.address);
    };
    if (q.type === 'A' || q.type === 'AAAA') {
      const family = q.type === 'A' ? 4 : 6;
      const ips = this.source.lookup(rinfo.address, name, family);
      // A name of ours without an address of this family: NOERROR with no answer (not NXDOMAIN).
      if (ips && ips.length === 0) return reply([]);
      if (ips) {
        // Round robin: rotate the order per query.
        const start = ips.length > 1 ? Math.floor(Math.random() * ips.length) : 0;
        const ordered = [...ips.slice(start), ...ips.slice(0, start)];
        return reply(ordered.map((data) => ({ type: q.type as 'A' | 'AAAA', name: q.name, ttl: TTL, class: 'IN', data })));
      }
    } else if (q.type === 'PTR') {
      const ip = ptrToIp(name);
      const host = ip ? this.source.reverse(rinfo.address, ip) : undefined;
      if (host) return reply([{ type: 'PTR', name: q.name, ttl: TTL, class: 'IN', data: host }]);
    }
    this.forward(msg, this.source.upstreams(rinfo.address), (answer) => {
      if (answer) sock.send(answer, rinfo.port, rinfo.address);
      else reply([], name.includes('.') ? SERVFAIL : NXDOMAIN);
    });
  }

  /** Relay the query to the first upstream that answers (UDP, 2 s each). */
  private forward(msg: Buffer, upstreams: string[], done: (answer?: Buffer) => void): void {
    const next = (i: number): void => {
      const server = upstreams[i];
      if (!server) return done();
      const s = dgram.createSocket(server.includes(':') ? 'udp6' : 'udp4');
      let finished = false;
      const finish = (answer?: Buffer): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        s.close();
        if (answer) done(answer);
        else next(i + 1);
      };
      const timer = setTimeout(() => finish(), 2000);
      s.on('error', () => finish());
      s.on('message', (m) => finish(m));
      s.send(msg, 53, server);
    };
    next(0);
  }
}
