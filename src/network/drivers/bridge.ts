// The bridge driver: a Linux bridge per network with the gateway address on it, and a veth pair
// per endpoint (host end on the bridge, other end created directly in the container's netns).
import { parsePrefix } from '../ipam/cidr.ts';
import type { NetHost, NetworkRecord } from '../types.ts';
import { netnsOps, type NetworkDriver } from './driver.ts';

export const bridgeDriver: NetworkDriver = {
  name: 'bridge',
  async validate() {},
  async ensure(net, host) {
    const lines: string[] = [];
    if (!host.linkExists(net.ifname)) lines.push(`link add ${net.ifname} type bridge`);
    for (const c of net.ipam.config) {
      if (!c.Gateway) continue;
      const bits = parsePrefix(c.Subnet).bits;
      lines.push(`addr replace ${c.Gateway}/${bits} dev ${net.ifname}${c.Gateway.includes(':') ? ' nodad' : ''}`);
    }
    lines.push(`link set ${net.ifname} up`);
    await host.ipBatch(lines);
    // 127.0.0.1 → container DNAT needs loopback-sourced packets to be routable onto the bridge.
    await host.setSysctl(`net.ipv4.conf.${net.ifname}.route_localnet`, '1').catch(() => undefined);
  },
  async destroy(net: NetworkRecord, host: NetHost) {
    if (host.linkExists(net.ifname)) await host.ipBatch([`link del ${net.ifname}`], { force: true });
  },
  join(net, ep, { pid, gatewayRoute }) {
    return {
      host: [`link add ${ep.hostIf} type veth peer name ${ep.ifname} address ${ep.mac} netns ${pid}`, `link set ${ep.hostIf} master ${net.ifname} up`],
      netns: netnsOps(ep, gatewayRoute),
    };
  },
};
