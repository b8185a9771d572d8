// The macvlan driver (bridge mode): each endpoint is a macvlan child of the parent interface,
// created directly in the container's netns. Nothing is made on the host per network.
import { InvalidParameter } from '../../lib/errors.ts';
import { netnsOps, type NetworkDriver } from './driver.ts';

export const macvlanDriver: NetworkDriver = {
  name: 'macvlan',
  async validate(net, host) {
    const mode = net.options.macvlan_mode ?? 'bridge';
    if (mode !== 'bridge') throw new InvalidParameter(`macvlan mode ${mode} is not supported (bridge only)`);
    if (!net.ifname) throw new InvalidParameter('the macvlan driver needs a parent interface: -o parent=IFACE');
    if (!host.linkExists(net.ifname)) throw new InvalidParameter(`-o parent interface was not found on the host: ${net.ifname}`);
  },
  async ensure() {},
  async destroy() {},
  join(net, ep, { pid, gatewayRoute }) {
    return {
      host: [`link add link ${net.ifname} name ${ep.ifname} netns ${pid} address ${ep.mac} type macvlan mode bridge`],
      netns: netnsOps(ep, gatewayRoute),
    };
  },
};
