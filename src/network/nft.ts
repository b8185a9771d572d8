// The whole nftables table of this daemon, rendered from the network and endpoint records and
// replaced in one transaction (`nft -f`), so the kernel never holds a half-updated ruleset and a
// cleanup is one `delete table`. Pure: no host access here.
import type { PortMapping } from './types.ts';

export interface BridgeRules {
  bridge: string;
  subnets4: string[];
  subnets6: string[];
  internal: boolean;
  masquerade: boolean;
}

export interface PortRule extends PortMapping {
  ipv4?: string;
  ipv6?: string;
}

const q = (s: string): string => JSON.stringify(s);

export function renderTable(table: string, bridges: readonly BridgeRules[], ports: readonly PortRule[], opts: { egress?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`table inet ${table} {}`, `delete table inet ${table}`, `table inet ${table} {`);
  const names = bridges.map((b) => q(b.bridge));
  out.push(`  set bridges { type ifname;${names.length ? ` elements = { ${names.join(', ')} };` : ''} }`);
  // Published ports: DNAT to the container for traffic to a local address, from outside
  // (prerouting) and from the host itself (output). 127.0.0.1 works through route_localnet
  // on the bridge and the masquerade below.
  out.push('  chain ports {');
  for (const p of ports) {
    const dport = `${p.proto} dport ${p.hostPort}`;
    const v4 = p.hostIp === '' || p.hostIp === '0.0.0.0' ? 'meta nfproto ipv4' : p.hostIp.includes(':') ? undefined : `ip daddr ${p.hostIp}`;
    const v6 = p.hostIp === '' || p.hostIp === '::' ? 'meta nfproto ipv6' : p.hostIp.includes(':') ? `ip6 daddr ${p.hostIp}` : undefined;
    if (v4 && p.ipv4) out.push(`    ${v4} ${dport} dnat ip to ${p.ipv4}:${p.containerPort}`);
    if (v6 && p.ipv6) out.push(`    ${v6} ${dport} dnat ip6 to [${p.ipv6}]:${p.containerPort}`);
  }
  out.push('  }');
  out.push('  chain nat_pre {', '    type nat hook prerouting priority dstnat; policy accept;', '    fib daddr type local jump ports', '  }');
  out.push('  chain nat_out {', '    type nat hook output priority -100; policy accept;', '    fib daddr type local jump ports', '  }');
  out.push('  chain nat_post {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const b of bridges) {
    out.push(`    oifname ${q(b.bridge)} ip saddr 127.0.0.0/8 masquerade`);
    // Hairpin: a container reaching a published port (DNAT'ed back onto its own bridge) must see
    // the replies come from where it sent to, with or without br_netfilter.
    for (const s of b.subnets4) out.push(`    oifname ${q(b.bridge)} ip saddr ${s} ct status dnat masquerade`);
    if (!b.masquerade || b.internal) continue;
    for (const s of b.subnets4) out.push(`    ip saddr ${s} oifname != ${q(b.bridge)} masquerade`);
    for (const s of b.subnets6) out.push(`    ip6 saddr ${s} oifname != ${q(b.bridge)} masquerade`);
  }
  out.push('  }');
  // Isolation: no traffic between different networks, none in or out of internal ones;
  // published ports (DNAT'ed connections) stay reachable from every network.
  out.push('  chain filter_fwd {', '    type filter hook forward priority filter; policy accept;', '    ct status dnat accept');
  // --no-egress: nothing from a berth bridge is forwarded to an interface that is not one.
  if (opts.egress === false && bridges.length) out.push('    iifname @bridges oifname != @bridges drop');
  for (const b of bridges) {
    if (b.internal) {
      out.push(`    iifname ${q(b.bridge)} oifname != ${q(b.bridge)} drop`);
      out.push(`    oifname ${q(b.bridge)} iifname != ${q(b.bridge)} drop`);
    } else {
      out.push(`    iifname ${q(b.bridge)} oifname @bridges oifname != ${q(b.bridge)} drop`);
    }
  }
  out.push('  }', '}', '');
  return out.join('\n');
}
