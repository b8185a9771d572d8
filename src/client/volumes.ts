// Volumes area of the Engine API.
import type { Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse } from '../types/volumes.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import type { Transport } from './transport.ts';

export class VolumesApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  create(req: VolumeCreateRequest = {}): Promise<Volume> {
    return this.transport.json<Volume>({ method: 'POST', path: '/volumes/create', json: { Driver: 'local', DriverOpts: {}, Labels: {}, Name: '', ...req } });
  }

  list(options: { filters?: FilterMap } = {}): Promise<VolumeListResponse> {
    return this.transport.json<VolumeListResponse>({ path: '/volumes', query: { filters: encodeFilters(options.filters) } });
  }

  inspect(name: string): Promise<Volume> {
    return this.transport.json<Volume>({ path: `/volumes/${encodeURIComponent(name)}` });
  }

  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.transport.send({ method: 'DELETE', path: `/volumes/${encodeURIComponent(name)}`, query: { force: options.force || undefined } });
  }

  prune(options: { filters?: FilterMap } = {}): Promise<VolumePruneResponse> {
    return this.transport.json<VolumePruneResponse>({ method: 'POST', path: '/volumes/prune', query: { filters: encodeFilters(options.filters) } });
  }
}
