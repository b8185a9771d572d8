import { readFile, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/atomic.ts';
import type { ContainerConfig, HostConfig } from '../../types/docker.ts';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

async function hostFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** What the network layer knows when the container starts (issue 6). */
export interface EtcNetworkInfo {
  /** The container's own addresses (named after its hostname in /etc/hosts). */
  addresses: string[];
  /** The embedded DNS server's address (user-defined networks). */
  dnsServer?: string;
  /** What `host-gateway` in --add-host means (the default bridge's gateway). */
  hostGateway?: string;
}

/**
 * resolv.conf as Docker writes it: the host's, minus loopback resolvers a netns can't reach. On a
 * user-defined network the embedded DNS is the only nameserver (it forwards to --dns or the host's).
 */
function containerResolvConf(host: string, hc: HostConfig, hostNetwork: boolean, dnsServer?: string): string {
  if (hostNetwork) return host;
  if (dnsServer) {
    const search = hc.DnsSearch?.length ? `search ${hc.DnsSearch.join(' ')}` : host.split('\n').find((l) => /^\s*search\s/.test(l));
    const opts = hc.DnsOptions?.length ? `options ${hc.DnsOptions.join(' ')}` : host.split('\n').find((l) => /^\s*options\s/.test(l));
    return [`nameserver ${dnsServer}`, search, opts].filter(Boolean).join('\n') + '\n';
  }
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  const out = lines.filter((l) => !(hc.Dns?.length && /^\s*nameserver\s/.test(l)) && !(hc.DnsSearch?.length && /^\s*search\s/.test(l)));
  for (const ns of hc.Dns ?? []) out.push(`nameserver ${ns}`);
  if (hc.DnsSearch?.length) out.push(`search ${hc.DnsSearch.join(' ')}`);
  if (hc.DnsOptions?.length) out.push(`options ${hc.DnsOptions.join(' ')}`);
  return out.filter((l, i, a) => l !== '' || i < a.length - 1).join('\n') + '\n';
}

function renderHosts(etcHosts: string, cfg: ContainerConfig, hc: HostConfig, net?: EtcNetworkInfo): string {
  const hostNetwork = hc.NetworkMode === 'host';
  const hostname = cfg.Hostname + (cfg.Domainname ? `.${cfg.Domainname}` : '');
  let hosts = hostNetwork ? etcHosts : DEFAULT_HOSTS.join('\n') + '\n';
  for (const extra of hc.ExtraHosts ?? []) {
    // name:ip or name=ip; `host-gateway` is the default bridge's gateway.
    const i = extra.search(/[:=]/);
    if (i <= 0) continue;
    let ip = extra.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
    if (ip === 'host-gateway') ip = net?.hostGateway ?? ip;
    hosts += `${ip}\t${extra.slice(0, i)}\n`;
  }
  if (!hostNetwork) for (const a of net?.addresses ?? []) hosts += `${a}\t${hostname}${cfg.Hostname !== hostname ? ` ${cfg.Hostname}` : ''}\n`;
  return hosts;
}

/** Write /etc/hostname, /etc/hosts and /etc/resolv.conf for a container. */
export async function writeEtcFiles(paths: { hostsPath: string; resolvConfPath: string; hostnamePath: string }, cfg: ContainerConfig, hc: HostConfig, net?: EtcNetworkInfo): Promise<void> {
  const hostNetwork = hc.NetworkMode === 'host';
  const hostname = cfg.Hostname + (cfg.Domainname ? `.${cfg.Domainname}` : '');
  await Promise.all([
    writeFileAtomic(paths.hostnamePath, hostname + '\n'),
    writeFileAtomic(paths.hostsPath, renderHosts(hostNetwork ? await hostFile('/etc/hosts') : '', cfg, hc, net)),
    writeFileAtomic(paths.resolvConfPath, containerResolvConf(await hostFile('/etc/resolv.conf'), hc, hostNetwork, net?.dnsServer)),
  ]);
}

/**
 * At each start, once the addresses are known: /etc/hosts and /etc/resolv.conf again. Plain
 * writes (no fsync): they are regenerated at every start, and this is on `docker run`'s path.
 */
export async function writeNetworkEtcFiles(paths: { hostsPath: string; resolvConfPath: string }, cfg: ContainerConfig, hc: HostConfig, net: EtcNetworkInfo): Promise<void> {
  if (hc.NetworkMode === 'host') return;
  await Promise.all([
    writeFile(paths.hostsPath, renderHosts('', cfg, hc, net)),
    writeFile(paths.resolvConfPath, containerResolvConf(await hostFile('/etc/resolv.conf'), hc, false, net.dnsServer)),
  ]);
}
