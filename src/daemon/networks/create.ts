import type { NetworkCreateRequest } from '../../network/controller.ts';
import { publishNetworkEvent, type NetworkServiceDeps } from './deps.ts';

/** POST /networks/create */
export async function createNetwork(deps: NetworkServiceDeps, req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
  const net = await deps.network.createNetwork(req);
  publishNetworkEvent(deps, 'create', net);
  return { Id: net.id, Warning: '' };
}
