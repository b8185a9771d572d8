// Networks area of the Engine API.
import type { NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse, NetworkResource } from '../types/networks.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import type { Transport } from './transport.ts';

export class NetworksApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  create(req: NetworkCreateRequest): Promise<NetworkCreateResponse> {
    return this.transport.json<NetworkCreateResponse>({ method: 'POST', path: '/networks/create', json: { Driver: 'bridge', Scope: '', Internal: false, Attachable: false, Ingress: false, EnableIPv6: false, Options: {}, Labels: {}, ...req } });
  }

  list(options: { filters?: FilterMap } = {}): Promise<NetworkResource[]> {
    return this.transport.json<NetworkResource[]>({ path: '/networks', query: { filters: encodeFilters(options.filters) } });
  }

  inspect(ref: string): Promise<NetworkResource> {
    return this.transport.json<NetworkResource>({ path: `/networks/${encodeURIComponent(ref)}` });
  }

  async remove(ref: string): Promise<void> {
    await this.transport.send({ method: 'DELETE', path: `/networks/${encodeURIComponent(ref)}` });
  }

  prune(options: { filters?: FilterMap } = {}): Promise<NetworkPruneResponse> {
    return this.transport.json<NetworkPruneResponse>({ method: 'POST', path: '/networks/prune', query: { filters: encodeFilters(options.filters) } });
  }

  async connect(ref: string, req: NetworkConnectRequest): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/networks/${encodeURIComponent(ref)}/connect`, json: req });
  }

  async disconnect(ref: string, container: string, options: { force?: boolean } = {}): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/networks/${encodeURIComponent(ref)}/disconnect`, json: { Container: container, Force: !!options.force } });
  }
}
