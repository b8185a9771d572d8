import { readFile } from 'node:fs/promises';
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

/** resolv.conf as Docker writes it: the host's, minus loopback resolvers a netns can't reach. */
function containerResolvConf(host: string, hc: HostConfig, hostNetwork: boolean): string {
  if (hostNetwork) return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  const out = lines.filter((l) => !(hc.Dns?.length && /^\s*nameserver\s/.test(l)) && !(hc.DnsSearch?.length && /^\s*search\s/.test(l)));
  for (const ns of hc.Dns ?? []) out.push(`nameserver ${ns}`);
  if (hc.DnsSearch?.length) out.push(`search ${hc.DnsSearch.join(' ')}`);
  if (hc.DnsOptions?.length) out.push(`options ${hc.DnsOptions.join(' ')}`);
  return out.filter((l, i, a) => l !== '' || i < a.length - 1).join('\n') + '\n';
}

/** Write /etc/hostname, /etc/hosts and /etc/resolv.conf for a container. */
export async function writeEtcFiles(paths: { hostsPath: string; resolvConfPath: string; hostnamePath: string }, cfg: ContainerConfig, hc: HostConfig): Promise<void> {
  const hostNetwork = hc.NetworkMode === 'host';
  const hostname = cfg.Hostname + (cfg.Domainname ? `.${cfg.Domainname}` : '');
  let hosts: string;
  if (hostNetwork) hosts = await hostFile('/etc/hosts');
  else hosts = DEFAULT_HOSTS.join('\n') + '\n';
  for (const extra of hc.ExtraHosts ?? []) {
    const i = extra.indexOf(':');
    if (i > 0) hosts += `${extra.slice(i + 1)}\t${extra.slice(0, i)}\n`;
  }
  await Promise.all([
    writeFileAtomic(paths.hostnamePath, hostname + '\n'),
    writeFileAtomic(paths.hostsPath, hosts),
    writeFileAtomic(paths.resolvConfPath, containerResolvConf(await hostFile('/etc/resolv.conf'), hc, hostNetwork)),
  ]);
}
