// The network controller: networks (records + kernel objects through their driver), endpoints
// (a container's attachment to a network; addresses from IPAM) and sandboxes (the container's
// netns, reached through its process). State lives in SQLite (NetworkStore); IPAM, the nftables
// table and the embedded DNS are rebuilt from it at start.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { randomId } from '../lib/digest.ts';
import { Conflict, Forbidden, InvalidParameter, NotFound } from '../lib/errors.ts';
import { KeyedLock } from '../lib/keyedlock.ts';
import { log } from '../lib/logger.ts';
import { contains, formatIp, formatPrefix, parseIp, parsePrefix, type Family, type Prefix } from './ipam/cidr.ts';
import { Ipam, type AddressPool, type SubnetSpec } from './ipam/ipam.ts';
import type { EmbeddedDns } from './dns/server.ts';
import { PortReservations } from './portmap/ports.ts';
import { renderTable, type BridgeRules, type PortRule } from './nft.ts';
import { bridgeDriver } from './drivers/bridge.ts';
import { macvlanDriver } from './drivers/macvlan.ts';
import type { NetworkDriver } from './drivers/driver.ts';
import type { NetworkStore } from './store.ts';
import type { NetworkCreateRequest } from '../types/networks.ts';
import type { EndpointConfig, EndpointRecord, EndpointState, IpamSubnetConfig, NetHost, NetnsOp, NetworkRecord, PortMapping } from './types.ts';

export interface NetworkControllerOptions {
  store: NetworkStore;
  host: NetHost;
  /** The default bridge's interface (dockerd's -b/--bridge). */
  bridgeName: string;
  /** The default bridge's gateway address and prefix, e.g. 172.17.0.1/16 (dockerd's --bip). */
  bip?: string;
  /** Where automatic subnets come from (dockerd's --default-address-pool). */
  pools: AddressPool[];
  /** The nftables table (family inet) that holds all of this daemon's rules. */
  nftTable: string;
  /** Prefix of the interfaces this daemon names: user bridges `<p>-<hex>`, veths `<p>v<hex>`. */
  ifacePrefix: string;
  /** The host's resolv.conf (upstream resolvers of the embedded DNS). */
  resolvConf?: string;
  /** false: traffic from berth's bridges to any other interface is dropped, and the embedded DNS does not forward. */
  egress?: boolean;
}

export type { NetworkCreateRequest };

/** What the controller needs to know about a container to give it endpoints. */
export interface SandboxInfo {
  containerId: string;
  name: string;
  hostname: string;
  /** Published ports wanted (hostPort 0 = ephemeral). */
  ports: PortMapping[];
  /** --dns: resolvers for names that are not containers (the host's when empty). */
  dns: string[];
}

const DRIVERS: Record<string, NetworkDriver> = { bridge: bridgeDriver, macvlan: macvlanDriver };
const DEFAULT_BRIDGE_OPTIONS = (name: string): Record<string, string> => ({
  'com.docker.network.bridge.default_bridge': 'true',
  'com.docker.network.bridge.enable_icc': 'true',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
  'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
  'com.docker.network.bridge.name': name,
  'com.docker.network.driver.mtu': '1500',
});

/** dockerd's default pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export const DEFAULT_POOLS: AddressPool[] = [
  { base: parsePrefix('172.17.0.0/16'), size: 16 },
  { base: parsePrefix('172.18.0.0/15'), size: 16 },
  { base: parsePrefix('172.20.0.0/14'), size: 16 },
  { base: parsePrefix('172.24.0.0/13'), size: 16 },
  { base: parsePrefix('192.168.0.0/16'), size: 20 },
];

function now(): string {
  return new Date().toISOString().replace('Z', '000000Z');
}

function macFromIp(v4: bigint | undefined): string {
  if (v4 === undefined) return '02:42:' + [...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  const b = [24n, 16n, 8n, 0n].map((s) => Number((v4 >> s) & 255n).toString(16).padStart(2, '0'));
  return `02:42:${b.join(':')}`;
}

function parseAddr(text: string, what: string): { family: Family; value: bigint } {
  const ip = parseIp(text);
  if (!ip) throw new InvalidParameter(`invalid ${what}: ${text}`);
  return ip;
}

/** The host's nameservers (including loopback ones: the embedded DNS forwards from the host). */
export function hostNameservers(resolvConf = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(resolvConf, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}

export class NetworkController {
  readonly store: NetworkStore;
  private readonly host: NetHost;
  private readonly opts: NetworkControllerOptions;
  private readonly ipam: Ipam;
  private readonly ports = new PortReservations();
  /** The embedded DNS server, imported (dns-packet, dgram) with the first user-defined network. */
  private dns: EmbeddedDns | undefined;
  private dnsLoading: Promise<EmbeddedDns> | undefined;
  private readonly lock = new KeyedLock();
  private nftRunning: Promise<void> | undefined;
  private nftDirty = false;

  constructor(opts: NetworkControllerOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.host = opts.host;
    this.ipam = new Ipam(opts.pools);
  }

  // ---- start-up reconciliation -------------------------------------------------------------

  /**
   * Rebuild IPAM from the records, make sure the predefined networks exist, recreate missing
   * kernel objects, remove stale ones of ours, hold published ports again, write the nftables
   * table and serve DNS. Runs before containers are restored.
   */
  async init(): Promise<void> {
    await this.host.setSysctl('net.ipv4.ip_forward', '1').catch((e: unknown) => log.warn('cannot enable IP forwarding', { error: e }));
    for (const net of this.store.networks.values()) {
      try {
        this.ipam.addNetwork(net.id, this.subnetSpecs(net));
      } catch (err) {
        log.warn('network overlaps another; its addresses are not managed', { network: net.name, error: err });
      }
    }
    await this.ensureBuiltins();
    for (const ep of this.store.endpoints.values()) if (ep.state) this.claim(ep);
    for (const net of this.store.networks.values()) {
      const driver = DRIVERS[net.driver];
      if (driver) await driver.ensure(net, this.host).catch((e: unknown) => log.error('cannot recreate the network', { network: net.name, error: e }));
    }
    await this.removeStaleLinks();
    for (const ep of this.store.endpoints.values()) {
      if (!ep.state?.ports.length) continue;
      await this.ports.reserve(ep.state.ports).catch((e: unknown) => log.warn('cannot hold a published port again', { endpoint: ep.id, error: e }));
    }
    await this.applyNft().catch((e: unknown) => log.error('cannot write the nftables table: published ports and isolation are off', { error: e }));
    for (const net of this.store.networks.values()) await this.startDns(net);
  }

  /** After containers are restored: endpoints of containers that no longer run are released. */
  async reconcileContainers(running: (containerId: string) => boolean, exists: (containerId: string) => boolean): Promise<void> {
    const ids = new Set([...this.store.endpoints.values()].map((e) => e.containerId));
    for (const id of ids) {
      if (!exists(id)) await this.forgetContainer(id);
      else if (!running(id)) await this.release(id);
    }
  }

  private async ensureBuiltins(): Promise<void> {
    const byName = (n: string): NetworkRecord | undefined => [...this.store.networks.values()].find((x) => x.name === n);
    const base = (name: string, driver: string): NetworkRecord => ({
      id: randomId(), name, driver, created: now(), enableIPv6: false, internal: false, attachable: false,
      ipam: { driver: 'default', options: null, config: [] }, options: {}, labels: {}, ifname: '', builtin: true, isDefault: false,
    });
    if (!byName('none')) this.store.putNetwork(base('none', 'null'));
    if (!byName('host')) this.store.putNetwork(base('host', 'host'));
    const existing = byName('bridge');
    let subnet: Prefix;
    let gateway: string;
    if (this.opts.bip) {
      const m = /^(.+)\/(\d+)$/.exec(this.opts.bip);
      const gw = m ? parseIp(m[1]) : undefined;
      if (!m || !gw || gw.family !== 4) throw new InvalidParameter(`invalid --bip: ${this.opts.bip}`);
      subnet = parsePrefix(this.opts.bip);
      gateway = m[1];
    } else if (existing?.ipam.config[0]) {
      subnet = parsePrefix(existing.ipam.config[0].Subnet);
      gateway = existing.ipam.config[0].Gateway ?? formatIp(4, subnet.base + 1n);
    } else {
      subnet = this.ipam.allocateSubnet(4, await this.hostPrefixes());
      gateway = formatIp(4, subnet.base + 1n);
    }
    const rec: NetworkRecord = existing ?? base('bridge', 'bridge');
    const config = [{ Subnet: formatPrefix(subnet), Gateway: gateway }];
    if (existing && existing.ifname !== this.opts.bridgeName && this.host.linkExists(existing.ifname)) {
      await bridgeDriver.destroy(existing, this.host).catch(() => undefined);
    }
    Object.assign(rec, { ifname: this.opts.bridgeName, isDefault: true, options: DEFAULT_BRIDGE_OPTIONS(this.opts.bridgeName), ipam: { driver: 'default', options: null, config } });
    this.store.putNetwork(rec);
    this.ipam.removeNetwork(rec.id);
    this.ipam.addNetwork(rec.id, this.subnetSpecs(rec));
  }

  /**
   * Bridges and veths named with our prefix that no record knows (left by a crash). Careful with
   * another daemon that shares the prefix: a bridge with ports or a veth on a bridge not ours stays.
   */
  private async removeStaleLinks(): Promise<void> {
    const p = this.opts.ifacePrefix;
    const bridges = new Set([...this.store.networks.values()].filter((n) => n.driver === 'bridge').map((n) => n.ifname));
    const veths = new Set([...this.store.endpoints.values()].map((e) => e.state?.hostIf).filter(Boolean));
    const stale: string[] = [];
    const links = await this.host.links();
    const withPorts = new Set(links.map((l) => l.master).filter(Boolean));
    for (const l of links) {
      if (l.kind === 'bridge' && l.ifname.startsWith(`${p}-`) && !bridges.has(l.ifname) && !withPorts.has(l.ifname)) stale.push(l.ifname);
      if (l.kind === 'veth' && l.ifname.startsWith(`${p}v`) && !veths.has(l.ifname) && (!l.master || bridges.has(l.master))) stale.push(l.ifname);
    }
    if (stale.length) {
      log.info('removing stale network interfaces', { links: stale });
      await this.host.ipBatch(stale.map((n) => `link del ${n}`), { force: true });
    }
  }

  /**
   * Uninstall (`berthd --cleanup`): every kernel object this daemon made goes: bridges, veths,
   * the nftables table. Records stay (a later start recreates what they describe).
   */
  async cleanupAll(): Promise<void> {
    const lines: string[] = [];
    const p = this.opts.ifacePrefix;
    const ours = new Set([this.opts.bridgeName, ...[...this.store.networks.values()].filter((n) => n.driver === 'bridge').map((n) => n.ifname)]);
    for (const e of this.store.endpoints.values()) if (e.state?.hostIf) ours.add(e.state.hostIf);
    for (const l of await this.host.links()) {
      if (ours.has(l.ifname) || ((l.kind === 'bridge' || l.kind === 'veth') && (l.ifname.startsWith(`${p}-`) || l.ifname.startsWith(`${p}v`)))) lines.push(`link del ${l.ifname}`);
    }
    await this.host.ipBatch(lines, { force: true });
    await this.host.nft(`table inet ${this.opts.nftTable} {}\ndelete table inet ${this.opts.nftTable}\n`);
  }

  /** Stop serving (berthd shutdown): sockets close; kernel objects stay for the next start. */
  close(): void {
    this.dns?.closeAll();
    this.ports.releaseAll();
  }

  // ---- networks ---------------------------------------------------------------------------

  list(): NetworkRecord[] {
    return [...this.store.networks.values()];
  }

  /** By full ID, exact name, or unique ID prefix (dockerd's order). */
  find(ref: string): NetworkRecord {
    const n = this.tryFind(ref);
    if (!n) throw new NotFound(`network ${ref} not found`);
    return n;
  }

  tryFind(ref: string): NetworkRecord | undefined {
    if (!ref) return undefined;
    const all = this.list();
    const exact = all.find((n) => n.id === ref) ?? all.find((n) => n.name === ref);
    if (exact) return exact;
    const prefixed = all.filter((n) => n.id.startsWith(ref));
    if (prefixed.length > 1) throw new InvalidParameter(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    return prefixed[0];
  }

  async createNetwork(req: NetworkCreateRequest): Promise<NetworkRecord> {
    return this.lock.run('networks', async () => {
      const name = req.Name;
      if (!name) throw new InvalidParameter('network name cannot be empty');
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new InvalidParameter(`invalid network name "${name}"`);
      if (this.list().some((n) => n.name === name)) throw new Conflict(`network with name ${name} already exists`);
      const driverName = req.Driver || 'bridge';
      if (driverName === 'host' || driverName === 'null') throw new Forbidden(`only one instance of "${driverName}" network is allowed`);
      const driver = DRIVERS[driverName];
      if (!driver) throw new NotFound(`plugin "${driverName}" not found`);
      const ipamDriver = req.IPAM?.Driver || 'default';
      if (ipamDriver !== 'default') throw new NotFound(`plugin "${ipamDriver}" not found`);
      const id = randomId();
      const options = { ...(req.Options ?? {}) };
      const enableIPv6 = !!req.EnableIPv6;
      const config = await this.subnetConfigs(req.IPAM?.Config ?? [], enableIPv6);
      let ifname: string;
      if (driverName === 'bridge') {
        ifname = options['com.docker.network.bridge.name'] || `${this.opts.ifacePrefix}-${id}`.slice(0, 15);
        if (ifname.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(ifname)) throw new InvalidParameter(`invalid bridge name: ${ifname}`);
        if (this.list().some((n) => n.driver === 'bridge' && n.ifname === ifname) || this.host.linkExists(ifname)) throw new Conflict(`bridge name ${ifname} is already in use`);
      } else {
        ifname = options.parent ?? '';
      }
      const rec: NetworkRecord = {
        id, name, driver: driverName, created: now(), enableIPv6, internal: !!req.Internal, attachable: !!req.Attachable,
        ipam: { driver: 'default', options: req.IPAM?.Options ?? null, config }, options, labels: { ...(req.Labels ?? {}) }, ifname, builtin: false, isDefault: false,
      };
      await driver.validate(rec, this.host);
      this.ipam.addNetwork(id, this.subnetSpecs(rec));
      try {
        await driver.ensure(rec, this.host);
        this.store.putNetwork(rec);
        await this.applyNft();
        await this.startDns(rec);
      } catch (err) {
        this.store.deleteNetwork(id);
        this.ipam.removeNetwork(id);
        await driver.destroy(rec, this.host).catch(() => undefined);
        await this.applyNft().catch(() => undefined);
        throw err;
      }
      return rec;
    });
  }

  async removeNetwork(ref: string): Promise<NetworkRecord> {
    return this.lock.run('networks', async () => {
      const net = this.find(ref);
      if (net.builtin) throw new Forbidden(`${net.name} is a pre-defined network and cannot be removed`);
      const eps = this.store.endpointsOn(net.id);
      if (eps.some((e) => e.state)) throw new Forbidden(`error while removing network: network ${net.name} id ${net.id} has active endpoints`);
      this.store.tx(() => {
        for (const e of eps) this.store.deleteEndpoint(e.id);
        this.store.deleteNetwork(net.id);
      });
      this.stopDns(net);
      this.ipam.removeNetwork(net.id);
      await this.applyNft();
      await DRIVERS[net.driver]?.destroy(net, this.host);
      return net;
    });
  }

  /** Networks no container refers to (prune). */
  unused(): NetworkRecord[] {
    const used = new Set([...this.store.endpoints.values()].map((e) => e.networkId));
    return this.list().filter((n) => !n.builtin && !used.has(n.id));
  }

  private async subnetConfigs(wanted: IpamSubnetConfig[], enableIPv6: boolean): Promise<IpamSubnetConfig[]> {
    const out: IpamSubnetConfig[] = [];
    for (const c of wanted) {
      if (!c.Subnet) throw new InvalidParameter('IPAM config requires a subnet');
      const subnet = parsePrefix(c.Subnet, { strict: true });
      if (subnet.family === 6 && !enableIPv6) throw new InvalidParameter('an IPv6 subnet needs --ipv6 (EnableIPv6)');
      if (c.IPRange) {
        const range = parsePrefix(c.IPRange, { strict: true });
        if (range.family !== subnet.family || range.bits < subnet.bits || !contains(subnet, range.family, range.base)) throw new InvalidParameter(`invalid ip-range ${c.IPRange}: not inside subnet ${c.Subnet}`);
      }
      let gateway = c.Gateway;
      if (gateway) {
        const g = parseAddr(gateway, 'gateway');
        if (!contains(subnet, g.family, g.value)) throw new InvalidParameter(`gateway ${gateway} is not in subnet ${c.Subnet}`);
      } else {
        gateway = formatIp(subnet.family, subnet.base + 1n);
      }
      out.push({ Subnet: formatPrefix(subnet), ...(c.IPRange ? { IPRange: c.IPRange } : {}), Gateway: gateway });
    }
    if (!out.some((c) => !c.Subnet.includes(':'))) {
      const subnet = this.ipam.allocateSubnet(4, await this.hostPrefixes());
      out.unshift({ Subnet: formatPrefix(subnet), Gateway: formatIp(4, subnet.base + 1n) });
    }
    if (enableIPv6 && !out.some((c) => c.Subnet.includes(':'))) throw new InvalidParameter('--ipv6 needs an IPv6 --subnet (no default IPv6 pool is configured)');
    return out;
  }

  private subnetSpecs(net: NetworkRecord): SubnetSpec[] {
    return net.ipam.config.map((c) => {
      const subnet = parsePrefix(c.Subnet);
      return { subnet, range: c.IPRange ? parsePrefix(c.IPRange) : subnet, gateway: c.Gateway ? parseIp(c.Gateway)?.value : undefined };
    });
  }

  private async hostPrefixes(): Promise<Prefix[]> {
    const out: Prefix[] = [];
    for (const r of await this.host.routes().catch(() => [])) {
      try {
        out.push(parsePrefix(r));
      } catch {
        /* not a prefix */
      }
    }
    return out;
  }

  // ---- endpoints and sandboxes ---------------------------------------------------------------

  /** Attach a container to a network (at create or connect): the record only, no address yet. */
  attach(containerId: string, net: NetworkRecord, config: EndpointConfig): EndpointRecord {
    if (net.driver === 'host' || net.driver === 'null') throw new InvalidParameter(`container cannot be connected to network ${net.name}`);
    if (this.store.endpoint(net.id, containerId)) throw new Forbidden(`endpoint with name ${containerId.slice(0, 12)} already exists in network ${net.name}`);
    for (const [addr, fam] of [[config.ipv4, 4], [config.ipv6, 6]] as const) {
      if (!addr) continue;
      if (net.isDefault) throw new InvalidParameter('user specified IP address is supported on user defined networks only');
      const ip = parseAddr(addr, 'IP address');
      if (ip.family !== fam || !this.subnetSpecs(net).some((s) => contains(s.subnet, ip.family, ip.value))) throw new InvalidParameter(`no configured subnet or ip-range contain the IP address ${addr}`);
    }
    if (net.isDefault && config.aliases.length) throw new InvalidParameter('network-scoped alias is supported only for containers in user defined networks');
    const seq = Math.max(0, ...this.store.endpointsOf(containerId).map((e) => e.seq + 1));
    const ep: EndpointRecord = { id: randomId(), networkId: net.id, containerId, seq, config, state: null };
    this.store.putEndpoint(ep);
    return ep;
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    return this.store.endpointsOf(containerId);
  }

  network(id: string): NetworkRecord | undefined {
    return this.store.networks.get(id);
  }

  /**
   * Give every attachment of the container its addresses, interface names and published ports
   * (before the container's process exists, so /etc/hosts can name its address). All or nothing.
   */
  async allocate(info: SandboxInfo, only?: EndpointRecord[]): Promise<EndpointRecord[]> {
    const eps = only ?? this.store.endpointsOf(info.containerId);
    const done: EndpointRecord[] = [];
    const usedIfnames = new Set(this.store.endpointsOf(info.containerId).map((e) => e.state?.ifname).filter(Boolean));
    let portsPlaced = this.store.endpointsOf(info.containerId).some((e) => e.state?.ports.length);
    try {
      for (const ep of eps) {
        if (ep.state) continue;
        const net = this.store.networks.get(ep.networkId);
        if (!net) throw new NotFound(`network ${ep.networkId} not found`);
        const v4 = net.ipam.config.some((c) => !c.Subnet.includes(':')) ? this.ipam.allocate(net.id, 4, ep.config.ipv4 ? parseIp(ep.config.ipv4)?.value : undefined) : undefined;
        let v6: bigint | undefined;
        try {
          v6 = net.enableIPv6 ? this.ipam.allocate(net.id, 6, ep.config.ipv6 ? parseIp(ep.config.ipv6)?.value : undefined) : undefined;
        } catch (err) {
          if (v4 !== undefined) this.ipam.release(net.id, 4, v4);
          throw err;
        }
        let i = 0;
        while (usedIfnames.has(`eth${i}`)) i++;
        const ifname = `eth${i}`;
        usedIfnames.add(ifname);
        const specs = this.subnetSpecs(net);
        const spec4 = v4 !== undefined ? specs.find((s) => contains(s.subnet, 4, v4)) : undefined;
        const spec6 = v6 !== undefined ? specs.find((s) => contains(s.subnet, 6, v6)) : undefined;
        const state: EndpointState = {
          ipv4: spec4 && v4 !== undefined ? `${formatIp(4, v4)}/${spec4.subnet.bits}` : undefined,
          ipv6: spec6 && v6 !== undefined ? `${formatIp(6, v6)}/${spec6.subnet.bits}` : undefined,
          gateway: spec4?.gateway !== undefined ? formatIp(4, spec4.gateway) : undefined,
          gateway6: spec6?.gateway !== undefined ? formatIp(6, spec6.gateway) : undefined,
          mac: ep.config.mac || macFromIp(v4),
          ifname,
          hostIf: net.driver === 'bridge' ? `${this.opts.ifacePrefix}v${randomBytes(8).toString('hex')}`.slice(0, 15) : undefined,
          pid: 0,
          name: info.name,
          dnsNames: [...new Set([info.name, info.hostname, ...ep.config.aliases, info.containerId.slice(0, 12)].filter(Boolean))],
          upstreams: info.dns,
          ports: [],
        };
        ep.state = state;
        done.push(ep);
        if (!portsPlaced && net.driver === 'bridge' && info.ports.length && state.ipv4) {
          portsPlaced = true;
          state.ports = await this.ports.reserve(info.ports);
        }
      }
    } catch (err) {
      for (const ep of done) this.unclaim(ep);
      throw err;
    }
    this.store.tx(() => done.forEach((ep) => this.store.putEndpoint(ep)));
    return done;
  }

  /**
   * Make the container's interfaces inside its netns (the process `pid` holds it): one `ip -batch`
   * on the host creates every link straight into the netns, then addresses and routes are set
   * inside it (over rtnetlink from berthd: os/net/netns-config.ts).
   */
  async wire(containerId: string, pid: number, only?: EndpointRecord[]): Promise<void> {
    const eps = (only ?? this.store.endpointsOf(containerId)).filter((e) => e.state);
    if (eps.length === 0) return;
    const all = this.store.endpointsOf(containerId).filter((e) => e.state);
    const hasRoute = only ? all.some((e) => !eps.includes(e) && e.state?.pid) : false;
    const gatewayEp = hasRoute ? undefined : eps.find((e) => !this.store.networks.get(e.networkId)?.internal && e.state?.gateway);
    const host: string[] = [];
    const netns: NetnsOp[] = [];
    for (const ep of eps) {
      const net = this.store.networks.get(ep.networkId)!;
      const ops = DRIVERS[net.driver]!.join(net, ep.state!, { pid, gatewayRoute: ep === gatewayEp });
      host.push(...ops.host);
      netns.push(...ops.netns);
    }
    const hostDone = this.host.ipBatch(host);
    hostDone.catch(() => undefined);
    await this.host.configureNetns(pid, netns, { after: hostDone });
    this.store.tx(() => eps.forEach((ep) => this.store.putEndpoint({ ...ep, state: { ...ep.state!, pid } })));
    if (eps.some((e) => e.state!.ports.length)) await this.applyNft();
  }

  /** The container stopped (or failed to start): addresses, ports and host links go. */
  async release(containerId: string, only?: EndpointRecord[], opts: { deleteLinks?: boolean } = {}): Promise<void> {
    const eps = (only ?? this.store.endpointsOf(containerId)).filter((e) => e.state);
    if (eps.length === 0) return;
    const deleteLinks = opts.deleteLinks ?? true;
    const links = eps.map((e) => e.state!.hostIf).filter((n): n is string => deleteLinks && !!n && this.host.linkExists(n));
    const hadPorts = eps.some((e) => e.state!.ports.length);
    for (const ep of eps) this.unclaim(ep);
    this.store.tx(() => eps.forEach((ep) => this.store.putEndpoint({ ...ep, state: null })));
    // The veth dies with the netns (no process spawn on the exit path); when the netns may live on
    // (shared with another container, a disconnect, a failed start) it is deleted with its peer.
    if (links.length) await this.host.ipBatch(links.map((l) => `link del ${l}`), { force: true });
    if (hadPorts) await this.applyNft();
  }

  /** Disconnect: the interface leaves the running container, the attachment goes. */
  async detach(containerId: string, net: NetworkRecord, force: boolean): Promise<void> {
    const ep = this.store.endpoint(net.id, containerId);
    if (!ep) {
      if (force) return;
      throw new Forbidden(`container ${containerId} is not connected to network ${net.name}`);
    }
    if (ep.state?.pid && !ep.state.hostIf) {
      await this.host.ipBatch([`link del ${ep.state.ifname}`], { netnsPid: ep.state.pid, force: true }).catch(() => undefined);
    }
    await this.release(containerId, [ep]);
    this.store.deleteEndpoint(ep.id);
  }

  /** The container is removed: its attachments go. */
  async forgetContainer(containerId: string): Promise<void> {
    await this.release(containerId);
    const eps = this.store.endpointsOf(containerId);
    this.store.tx(() => eps.forEach((e) => this.store.deleteEndpoint(e.id)));
  }

  /** The published ports of the container (from its active endpoints). */
  portsOf(containerId: string): PortMapping[] {
    return this.store.endpointsOf(containerId).flatMap((e) => e.state?.ports ?? []);
  }

  /** Address of the default bridge's gateway: `host-gateway` in --add-host. */
  hostGateway(): string | undefined {
    const br = this.list().find((n) => n.isDefault);
    return br?.ipam.config[0]?.Gateway;
  }

  /** The embedded DNS address for a container: the gateway of its first user-defined bridge network. */
  dnsServerFor(containerId: string): string | undefined {
    for (const ep of this.store.endpointsOf(containerId)) {
      const net = this.store.networks.get(ep.networkId);
      if (net && net.driver === 'bridge' && !net.isDefault) return net.ipam.config.find((c) => !c.Subnet.includes(':'))?.Gateway;
    }
    return undefined;
  }

  private claim(ep: EndpointRecord): void {
    for (const [addr, fam] of [[ep.state?.ipv4, 4], [ep.state?.ipv6, 6]] as const) {
      const ip = addr ? parseIp(addr.split('/')[0]) : undefined;
      if (ip) this.ipam.claim(ep.networkId, fam, ip.value);
    }
  }

  private unclaim(ep: EndpointRecord): void {
    const st = ep.state;
    if (!st) return;
    for (const [addr, fam] of [[st.ipv4, 4], [st.ipv6, 6]] as const) {
      const ip = addr ? parseIp(addr.split('/')[0]) : undefined;
      if (ip) this.ipam.release(ep.networkId, fam, ip.value);
    }
    if (st.ports.length) this.ports.release(st.ports);
    ep.state = null;
  }

  // ---- nftables -------------------------------------------------------------------------------

  /** Write the whole table from the records; concurrent calls coalesce into one more run. */
  applyNft(): Promise<void> {
    if (this.nftRunning) {
      this.nftDirty = true;
      return this.nftRunning.then(() => (this.nftRunning ? this.nftRunning : this.applyNft()));
    }
    const runOnce = async (): Promise<void> => {
      do {
        this.nftDirty = false;
        await this.host.nft(this.renderNft());
      } while (this.nftDirty);
    };
    this.nftRunning = runOnce().finally(() => (this.nftRunning = undefined));
    return this.nftRunning;
  }

  renderNft(): string {
    const bridges: BridgeRules[] = this.list()
      .filter((n) => n.driver === 'bridge')
      .map((n) => ({
        bridge: n.ifname,
        subnets4: n.ipam.config.filter((c) => !c.Subnet.includes(':')).map((c) => c.Subnet),
        subnets6: n.ipam.config.filter((c) => c.Subnet.includes(':')).map((c) => c.Subnet),
        internal: n.internal,
        masquerade: n.options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false',
      }));
    const ports: PortRule[] = [];
    for (const ep of this.store.endpoints.values()) {
      for (const p of ep.state?.ports ?? []) ports.push({ ...p, ipv4: ep.state!.ipv4?.split('/')[0], ipv6: ep.state!.ipv6?.split('/')[0] });
    }
    return renderTable(this.opts.nftTable, bridges, ports, { egress: this.opts.egress ?? true });
  }

  // ---- embedded DNS ---------------------------------------------------------------------------

  private embeddedDns(): Promise<EmbeddedDns> {
    this.dnsLoading ??= import('./dns/server.ts').then(({ EmbeddedDns: Server }) => {
      this.dns = new Server({
        lookup: (client, name, family) => this.dnsLookup(client, name, family),
        reverse: (client, ip) => this.dnsReverse(client, ip),
        upstreams: (client) => this.dnsUpstreams(client),
      });
      return this.dns;
    });
    return this.dnsLoading;
  }

  private async startDns(net: NetworkRecord): Promise<void> {
    if (net.driver !== 'bridge' || net.isDefault) return;
    for (const c of net.ipam.config) {
      if (!c.Gateway || c.Gateway.includes(':')) continue;
      const dns = await this.embeddedDns();
      await dns.listen(c.Gateway).catch((e: unknown) => log.warn('embedded DNS cannot listen', { network: net.name, address: c.Gateway, error: e }));
    }
  }

  private stopDns(net: NetworkRecord): void {
    for (const c of net.ipam.config) if (c.Gateway) this.dns?.close(c.Gateway);
  }

  /** The networks the container at `client` is on (user-defined ones: the default bridge has no DNS). */
  private clientNetworks(client: string): { containerId: string; networks: Set<string> } | undefined {
    for (const ep of this.store.endpoints.values()) {
      if (ep.state?.ipv4?.split('/')[0] === client || ep.state?.ipv6?.split('/')[0] === client) {
        const networks = new Set(this.store.endpointsOf(ep.containerId).filter((e) => e.state).map((e) => e.networkId));
        return { containerId: ep.containerId, networks };
      }
    }
    return undefined;
  }

  private dnsLookup(client: string, name: string, family: 4 | 6): string[] | undefined {
    const c = this.clientNetworks(client);
    if (!c) return undefined;
    let found = false;
    const out: string[] = [];
    for (const ep of this.store.endpoints.values()) {
      const st = ep.state;
      if (!st || !c.networks.has(ep.networkId)) continue;
      const net = this.store.networks.get(ep.networkId);
      if (!net || net.isDefault) continue;
      const names = st.dnsNames.map((n) => n.toLowerCase());
      if (!names.includes(name) && !names.some((n) => `${n}.${net.name.toLowerCase()}` === name)) continue;
      found = true;
      const addr = family === 4 ? st.ipv4 : st.ipv6;
      if (addr) out.push(addr.split('/')[0]);
    }
    return found ? out : undefined;
  }

  private dnsReverse(client: string, ip: string): string | undefined {
    const c = this.clientNetworks(client);
    if (!c) return undefined;
    for (const ep of this.store.endpoints.values()) {
      const st = ep.state;
      if (!st || !c.networks.has(ep.networkId)) continue;
      if (st.ipv4?.split('/')[0] === ip || st.ipv6?.split('/')[0] === ip) {
        const net = this.store.networks.get(ep.networkId);
        return net ? `${st.name}.${net.name}` : st.name;
      }
    }
    return undefined;
  }

  private dnsUpstreams(client: string): string[] {
    if (this.opts.egress === false) return [];
    for (const ep of this.store.endpoints.values()) {
      if (ep.state?.ipv4?.split('/')[0] === client && ep.state.upstreams?.length) return ep.state.upstreams;
    }
    return hostNameservers(this.opts.resolvConf);
  }
}
