// A network driver turns records into kernel objects. Drivers never allocate addresses (IPAM
// does, in the controller) and never run commands themselves: they return iproute2 batch lines for
// the host and changes for the container's netns, which the controller applies for every endpoint
// of a container at once.
import type { EndpointState, NetHost, NetnsOp, NetworkRecord } from '../types.ts';

export interface JoinOps {
  /** Lines for the host's `ip -batch` (create the link, move it into the container). */
  host: string[];
  /** Changes inside the container's netns (addresses, up, routes). */
  netns: NetnsOp[];
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
export function netnsOps(ep: EndpointState, gatewayRoute: boolean): NetnsOp[] {
  const dev = ep.ifname;
  const ops: NetnsOp[] = [];
  if (ep.ipv4) ops.push({ op: 'addr', dev, cidr: ep.ipv4 });
  if (ep.ipv6) ops.push({ op: 'addr', dev, cidr: ep.ipv6, nodad: true });
  ops.push({ op: 'up', dev });
  if (gatewayRoute && ep.gateway) ops.push({ op: 'default-route', dev, gateway: ep.gateway });
  if (gatewayRoute && ep.gateway6) ops.push({ op: 'default-route', dev, gateway: ep.gateway6 });
  return ops;
}
