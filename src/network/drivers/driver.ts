// A network driver turns records into kernel objects. Drivers never allocate addresses (IPAM
// does, in the controller) and never run commands themselves: they return iproute2 batch lines
// that the controller runs, one batch per namespace, for every endpoint of a container at once.
import type { EndpointState, NetHost, NetworkRecord } from '../types.ts';

export interface JoinOps {
  /** Lines for the host's `ip -batch` (create the link, move it into the container). */
  host: string[];
  /** Lines for the container netns's `ip -batch` (addresses, up, routes). */
  netns: string[];
}

export interface NetworkDriver {
  readonly name: string;
  /** Check options before anything is made (e.g. the macvlan parent exists). */
  validate(net: NetworkRecord, host: NetHost): Promise<void>;
  /** Make (or repair) the network's kernel objects. Idempotent: reconcile calls it at start. */
  ensure(net: NetworkRecord, host: NetHost): Promise<void>;
  /** Remove the network's kernel objects. */
  destroy(net: NetworkRecord, host: NetHost): Promise<void>;
  /** Ops that give the container at `pid` the endpoint `ep` (addresses already chosen). */
  join(net: NetworkRecord, ep: EndpointState, opts: { pid: number; gatewayRoute: boolean }): JoinOps;
}

/** Address, link up and routes inside the container: the same for every driver. */
export function netnsOps(ep: EndpointState, gatewayRoute: boolean): string[] {
  const lines: string[] = [];
  if (ep.ipv4) lines.push(`addr add ${ep.ipv4} dev ${ep.ifname}`);
  if (ep.ipv6) lines.push(`addr add ${ep.ipv6} dev ${ep.ifname} nodad`);
  lines.push(`link set ${ep.ifname} up`);
  if (gatewayRoute && ep.gateway) lines.push(`route add default via ${ep.gateway} dev ${ep.ifname}`);
  if (gatewayRoute && ep.gateway6) lines.push(`route add default via ${ep.gateway6} dev ${ep.ifname}`);
  return lines;
}
