import { publishNetworkEvent, type NetworkServiceDeps } from './deps.ts';

/** DELETE /networks/{id}: 403 while containers run on it; stopped containers lose the attachment. */
export async function removeNetwork(deps: NetworkServiceDeps, ref: string): Promise<void> {
  const net = await deps.network.removeNetwork(ref);
  publishNetworkEvent(deps, 'destroy', net);
}
