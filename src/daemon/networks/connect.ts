import { Forbidden, InvalidParameter } from '../../lib/errors.ts';
import type { NetworkConnectRequest } from '../../types/networks.ts';
import { isRunning } from '../containers/record.ts';
import { networkModeName } from '../containers/network.ts';
import { publishNetworkEvent, type NetworkServiceDeps } from './deps.ts';

export type ConnectRequest = NetworkConnectRequest;

/** POST /networks/{id}/connect: a running container gets the interface at once. */
export async function connectContainer(deps: NetworkServiceDeps, ref: string, req: ConnectRequest): Promise<void> {
  if (!req?.Container) throw new InvalidParameter('container is required');
  const net = deps.network.find(ref);
  const rec = deps.containers.repo.find(req.Container);
  await deps.containers.locks.run(rec.id, async () => {
    const mode = networkModeName(rec.hostConfig.NetworkMode);
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) throw new Forbidden(`container cannot be disconnected from host network or connected to host network`);
    if (net.driver === 'host' || net.driver === 'null') throw new Forbidden(`container cannot be disconnected from host network or connected to host network`);
    const s = req.EndpointConfig ?? {};
    const ipam = (s.IPAMConfig ?? null) as { IPv4Address?: string; IPv6Address?: string } | null;
    const ep = deps.network.attach(rec.id, net, {
      aliases: [...((s.Aliases as string[] | null | undefined) ?? [])],
      ipv4: ipam?.IPv4Address || undefined,
      ipv6: ipam?.IPv6Address || undefined,
      mac: s.MacAddress || undefined,
      driverOpts: (s.DriverOpts as Record<string, string> | null | undefined) ?? null,
    });
    if (isRunning(rec.state) && rec.state.pid) {
      try {
        await deps.network.allocate({ containerId: rec.id, name: rec.name, hostname: rec.config.Hostname, ports: [], dns: rec.hostConfig.Dns ?? [] }, [ep]);
        await deps.network.wire(rec.id, rec.state.pid, [ep]);
      } catch (err) {
        await deps.network.detach(rec.id, net, true).catch(() => undefined);
        throw err;
      }
    }
  });
  publishNetworkEvent(deps, 'connect', net, { container: rec.id });
}
