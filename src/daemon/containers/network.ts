// A container's networking, between the container services and the network controller: which
// networks it joins (NetworkMode + EndpointsConfig), addresses before its process exists, links
// once the runtime has made its netns, release at exit, and the NetworkSettings views.
import { InvalidParameter, Conflict } from '../../lib/errors.ts';
import type { ContainerCreateRequest, EndpointSettings, HostConfig, PortSummary } from '../../types/docker.ts';
import type { NetworkController } from '../../network/controller.ts';
import type { EndpointConfig, NetworkRecord, PortMapping } from '../../network/types.ts';
import { wantedPorts } from '../../network/portmap/ports.ts';
import type { ContainerDeps } from './deps.ts';
import { isRunning, type ContainerRecord } from './record.ts';

export interface NetworkPlan {
  attach: Array<{ net: NetworkRecord; config: EndpointConfig }>;
}

/** dockerd's NetworkMode: "default" is the default bridge. */
export function networkModeName(mode: string | undefined): string {
  return !mode || mode === 'default' ? 'bridge' : mode;
}

function endpointConfig(s: Partial<EndpointSettings> | undefined): EndpointConfig {
  const ipam = (s?.IPAMConfig ?? null) as { IPv4Address?: string; IPv6Address?: string } | null;
  return {
    aliases: [...((s?.Aliases as string[] | null | undefined) ?? [])],
    ipv4: ipam?.IPv4Address || undefined,
    ipv6: ipam?.IPv6Address || undefined,
    mac: s?.MacAddress || undefined,
    driverOpts: (s?.DriverOpts as Record<string, string> | null | undefined) ?? null,
  };
}

/** Check the create request's networking before anything is made. */
export function planNetworks(deps: ContainerDeps, req: ContainerCreateRequest): NetworkPlan {
  const hc = req.HostConfig ?? {};
  const mode = networkModeName(hc.NetworkMode);
  wantedPorts(hc.PortBindings, req.ExposedPorts, !!hc.PublishAllPorts); // validates
  const net = deps.network;
  if (!net) return { attach: [] };
  if (mode === 'host' || mode === 'none') {
    if (hc.PortBindings && Object.keys(hc.PortBindings).length && mode === 'none') throw new InvalidParameter('conflicting options: port publishing and the container type network mode');
    return { attach: [] };
  }
  if (mode.startsWith('container:')) {
    if (hc.PortBindings && Object.keys(hc.PortBindings).length) throw new InvalidParameter('conflicting options: port publishing and the container type network mode');
    deps.repo.find(mode.slice('container:'.length));
    return { attach: [] };
  }
  const primary = net.find(mode);
  if (primary.driver === 'host' || primary.driver === 'null') return { attach: [] };
  const eps = req.NetworkingConfig?.EndpointsConfig ?? {};
  const own = eps[mode] ?? eps[primary.name] ?? eps[primary.id] ?? eps.default;
  const attach = [{ net: primary, config: endpointConfig(own) }];
  for (const [name, settings] of Object.entries(eps)) {
    if (name === mode || name === primary.name || name === primary.id || name === 'default') continue;
    const other = net.find(name);
    if (attach.some((a) => a.net.id === other.id)) continue;
    attach.push({ net: other, config: endpointConfig(settings) });
  }
  if (primary.isDefault && attach.length > 1) throw new InvalidParameter('Container cannot be connected to network endpoints: the default bridge cannot be combined with other networks at create');
  return { attach };
}

/** Record the attachments of a new container (after its row is written). */
export function applyNetworkPlan(deps: ContainerDeps, id: string, plan: NetworkPlan): void {
  for (const a of plan.attach) deps.network!.attach(id, a.net, a.config);
}

function portsWanted(rec: ContainerRecord): PortMapping[] {
  return wantedPorts(rec.hostConfig.PortBindings, rec.config.ExposedPorts, !!rec.hostConfig.PublishAllPorts);
}

/** The networks a container is attached to (ps --filter network=). */
export function containerNetworks(deps: ContainerDeps, rec: ContainerRecord): Array<{ id: string; name: string }> {
  const net = deps.network;
  if (!net) return [];
  const mode = networkModeName(rec.hostConfig.NetworkMode);
  if (mode === 'host' || mode === 'none') {
    const n = net.tryFind(mode);
    return n ? [{ id: n.id, name: n.name }] : [];
  }
  return net.endpointsOf(rec.id).flatMap((e) => {
    const n = net.network(e.networkId);
    return n ? [{ id: n.id, name: n.name }] : [];
  });
}

/** The netns the container joins (container:<id> mode), or addresses for its own netns. */
export async function prepareNetwork(deps: ContainerDeps, rec: ContainerRecord): Promise<{ netnsPath?: string; addresses: string[]; dnsServer?: string }> {
  const mode = networkModeName(rec.hostConfig.NetworkMode);
  if (mode.startsWith('container:')) {
    const other = deps.repo.find(mode.slice('container:'.length));
    if (!isRunning(other.state) || !other.state.pid) throw new Conflict(`cannot join network namespace of a non running container: container ${other.id} is ${other.state.status}`);
    return { netnsPath: `/proc/${other.state.pid}/ns/net`, addresses: [] };
  }
  const net = deps.network;
  if (!net || mode === 'host' || mode === 'none') return { addresses: [] };
  // A container without attachments (made before networks existed, or its network was removed
  // while it was stopped) joins its NetworkMode's network now; a missing one fails the start.
  if (net.endpointsOf(rec.id).length === 0) {
    const primary = net.find(mode);
    if (primary.driver !== 'host' && primary.driver !== 'null') net.attach(rec.id, primary, { aliases: [] });
  }
  const eps = await net.allocate({ containerId: rec.id, name: rec.name, hostname: rec.config.Hostname, ports: portsWanted(rec), dns: rec.hostConfig.Dns ?? [] });
  const addresses = eps.flatMap((e) => [e.state?.ipv4, e.state?.ipv6]).filter((a): a is string => !!a).map((a) => a.split('/')[0]);
  return { addresses, dnsServer: net.dnsServerFor(rec.id) };
}

/** The runtime made the container's process (and netns): give it its interfaces. */
export async function wireNetwork(deps: ContainerDeps, rec: ContainerRecord, pid: number): Promise<void> {
  await deps.network?.wire(rec.id, pid);
}

/** The container's process is gone: release addresses, ports and leftover links. */
export async function releaseNetwork(deps: ContainerDeps, rec: ContainerRecord): Promise<void> {
  if (!deps.network) return;
  // Another running container may share this netns (container:<this>): then the links must go now.
  const shared = deps.repo.all().some((r) => {
    const m = r.hostConfig.NetworkMode ?? '';
    return isRunning(r.state) && m.startsWith('container:') && [rec.id, rec.name].includes(m.slice('container:'.length));
  });
  await deps.network.release(rec.id, undefined, { deleteLinks: shared });
}

export async function forgetNetwork(deps: ContainerDeps, rec: ContainerRecord): Promise<void> {
  await deps.network?.forgetContainer(rec.id);
}

const EMPTY_ENDPOINT: EndpointSettings = { IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null, DNSNames: null };

/** NetworkSettings.Networks as dockerd shows them. */
export function endpointSettings(net: NetworkController | undefined, rec: ContainerRecord): Record<string, EndpointSettings> {
  const mode = networkModeName(rec.hostConfig.NetworkMode);
  if (mode.startsWith('container:')) return {};
  if (!net) return mode === 'bridge' ? {} : { [mode]: { ...EMPTY_ENDPOINT } };
  if (mode === 'host' || mode === 'none') {
    const n = net.tryFind(mode);
    return { [mode]: { ...EMPTY_ENDPOINT, NetworkID: n?.id ?? '' } };
  }
  const out: Record<string, EndpointSettings> = {};
  for (const ep of net.endpointsOf(rec.id)) {
    const n = net.network(ep.networkId);
    if (!n) continue;
    const st = ep.state;
    const [ip4, len4] = st?.ipv4?.split('/') ?? ['', '0'];
    const [ip6, len6] = st?.ipv6?.split('/') ?? ['', '0'];
    out[n.name] = {
      IPAMConfig: ep.config.ipv4 || ep.config.ipv6 ? { IPv4Address: ep.config.ipv4 ?? '', IPv6Address: ep.config.ipv6 ?? '' } : null,
      Links: null,
      Aliases: ep.config.aliases.length ? [...ep.config.aliases] : null,
      MacAddress: st?.mac ?? '',
      DriverOpts: ep.config.driverOpts ?? null,
      NetworkID: n.id,
      EndpointID: st ? ep.id : '',
      Gateway: st?.gateway ?? '',
      IPAddress: ip4,
      IPPrefixLen: Number(len4),
      IPv6Gateway: st?.gateway6 ?? '',
      GlobalIPv6Address: ip6,
      GlobalIPv6PrefixLen: Number(len6),
      DNSNames: st && !n.isDefault ? [...st.dnsNames] : null,
    } as EndpointSettings;
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or published port; null when not published. */
export function portSettings(net: NetworkController | undefined, rec: ContainerRecord): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  if (!net || !isRunning(rec.state)) return out;
  for (const key of Object.keys(rec.config.ExposedPorts ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const key of Object.keys(rec.hostConfig.PortBindings ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const p of net.portsOf(rec.id)) {
    const key = `${p.containerPort}/${p.proto}`;
    (out[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  }
  return out;
}

/** ps's Ports. */
export function portSummaries(net: NetworkController | undefined, rec: ContainerRecord): PortSummary[] {
  const out: PortSummary[] = [];
  for (const [key, list] of Object.entries(portSettings(net, rec))) {
    const [port, proto] = key.split('/');
    if (!list) out.push({ PrivatePort: Number(port), Type: proto } as PortSummary);
    else for (const b of list) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto } as PortSummary);
  }
  return out;
}

/** Top-level NetworkSettings fields (the default bridge's endpoint, as dockerd fills them). */
export function primarySettings(net: NetworkController | undefined, rec: ContainerRecord, hc: HostConfig): { IPAddress: string; Gateway: string; MacAddress: string; IPPrefixLen: number; EndpointID: string } {
  const all = endpointSettings(net, rec);
  const bridge = networkModeName(hc.NetworkMode) === 'bridge' ? all.bridge : undefined;
  return { IPAddress: bridge?.IPAddress ?? '', Gateway: bridge?.Gateway ?? '', MacAddress: bridge?.MacAddress ?? '', IPPrefixLen: bridge?.IPPrefixLen ?? 0, EndpointID: bridge?.EndpointID ?? '' };
}
