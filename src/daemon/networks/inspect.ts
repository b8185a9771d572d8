import type { NetworkServiceDeps } from './deps.ts';
import { networkResource, type NetworkResource } from './view.ts';

/** GET /networks/{id} */
export function inspectNetwork(deps: NetworkServiceDeps, ref: string): NetworkResource {
  return networkResource(deps, deps.network.find(ref));
}
