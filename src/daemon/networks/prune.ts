import { log } from '../../lib/logger.ts';
import { publishNetworkEvent, type NetworkServiceDeps } from './deps.ts';
import { filterNetworks } from './list.ts';

/** POST /networks/prune: user networks no container refers to. */
export async function pruneNetworks(deps: NetworkServiceDeps, filters: string | null | undefined): Promise<{ NetworksDeleted: string[] | null }> {
  const candidates = new Set(filterNetworks(deps, filters).map((n) => n.id));
  const deleted: string[] = [];
  for (const net of deps.network.unused()) {
    if (!candidates.has(net.id)) continue;
    try {
      await deps.network.removeNetwork(net.id);
      publishNetworkEvent(deps, 'destroy', net);
      deleted.push(net.name);
    } catch (err) {
      log.warn('prune: cannot remove network', { network: net.name, error: err });
    }
  }
  return { NetworksDeleted: deleted.length ? deleted : null };
}
