// The network layer's records and the host operations it needs (src/os/net implements them).

/** A published port: host side and container side (dockerd's PortBinding, resolved). */
export interface PortMapping {
  proto: 'tcp' | 'udp';
  containerPort: number;
  /** '' = every host address (dockerd shows 0.0.0.0). */
  hostIp: string;
  hostPort: number;
}

export interface IpamSubnetConfig {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  /** 'bridge' | 'macvlan' | 'host' | 'null' */
  driver: string;
  created: string;
  enableIPv6: boolean;
  internal: boolean;
  attachable: boolean;
  ipam: { driver: string; options: Record<string, string> | null; config: IpamSubnetConfig[] };
  options: Record<string, string>;
  labels: Record<string, string>;
  /** The kernel interface: the bridge's name, or the macvlan parent. */
  ifname: string;
  /** The predefined networks (bridge, host, none): never removed by the user. */
  builtin: boolean;
  /** The default bridge ("bridge"): no embedded DNS, as in dockerd. */
  isDefault: boolean;
}

/** What the container asked for on this network (EndpointSettings from create or connect). */
export interface EndpointConfig {
  aliases: string[];
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  driverOpts?: Record<string, string> | null;
}

/** The live side of an endpoint, set while the container runs. */
export interface EndpointState {
  /** Address with prefix length, e.g. 10.1.0.2/24. */
  ipv4?: string;
  ipv6?: string;
  gateway?: string;
  gateway6?: string;
  mac: string;
  /** The interface inside the container (eth0, eth1, …). */
  ifname: string;
  /** The host-side interface (veth), if any. */
  hostIf?: string;
  /** The container's process whose netns holds the interface. */
  pid: number;
  /** The container's name (network inspect shows it). */
  name: string;
  /** Resolvers for other names (--dns); the host's when empty. */
  upstreams?: string[];
  /** Names the embedded DNS answers for this endpoint (container name, hostname, aliases, short ID). */
  dnsNames: string[];
  ports: PortMapping[];
}

export interface EndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  /** Order of attachment (eth0 is the lowest). */
  seq: number;
  config: EndpointConfig;
  state: EndpointState | null;
}

export type { LinkInfo, NetHost, NetnsOp } from '../os/net/iproute.ts';
