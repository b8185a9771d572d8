import { Forbidden, InvalidParameter } from '../../lib/errors.ts';
import { networkModeName } from '../containers/network.ts';
import { publishNetworkEvent, type NetworkServiceDeps } from './deps.ts';

/** POST /networks/{id}/disconnect: the interface leaves a running container. */
export async function disconnectContainer(deps: NetworkServiceDeps, ref: string, req: { Container: string; Force?: boolean }): Promise<void> {
  if (!req?.Container) throw new InvalidParameter('container is required');
  const net = deps.network.find(ref);
  const rec = deps.containers.repo.tryFind(req.Container);
  if (!rec) {
    if (req.Force) return;
    deps.containers.repo.find(req.Container);
    return;
  }
  const mode = networkModeName(rec.hostConfig.NetworkMode);
  if (net.driver === 'host' || net.driver === 'null' || mode === 'host' || mode === 'none') throw new Forbidden('container cannot be disconnected from host network or connected to host network');
  await deps.containers.locks.run(rec.id, () => deps.network.detach(rec.id, net, !!req.Force));
  publishNetworkEvent(deps, 'disconnect', net, { container: rec.id });
}
