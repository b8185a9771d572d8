import type { NetworkRecord } from '../../network/types.ts';
import type { NetworkServiceDeps } from './deps.ts';
import type { NetworkResource } from '../../types/networks.ts';

export type { NetworkResource };


/** GET /networks/{id} and the entries of GET /networks, in dockerd's shape. */
export function networkResource(deps: NetworkServiceDeps, net: NetworkRecord): NetworkResource {
  const containers: NetworkResource['Containers'] = {};
  for (const ep of deps.network.store.endpointsOn(net.id)) {
    if (!ep.state) continue;
    containers[ep.containerId] = { Name: ep.state.name, EndpointID: ep.id, MacAddress: ep.state.mac, IPv4Address: ep.state.ipv4 ?? '', IPv6Address: ep.state.ipv6 ?? '' };
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: net.driver,
    EnableIPv6: net.enableIPv6,
    IPAM: { Driver: net.ipam.driver, Options: net.ipam.options, Config: net.ipam.config.map((c) => ({ ...c })) },
    Internal: net.internal,
    Attachable: net.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...net.options },
    Labels: { ...net.labels },
  };
}
