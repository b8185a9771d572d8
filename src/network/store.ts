// Network and endpoint records in SQLite, with an in-memory copy for reads (write-through).
import type { MetaDb } from '../store/meta/db.ts';
import type { EndpointRecord, NetworkRecord } from './types.ts';

interface NetRow {
  id: string;
  config: string;
}
interface EpRow {
  id: string;
  network_id: string;
  container_id: string;
  seq: number;
  config: string;
  state: string | null;
}

export class NetworkStore {
  private readonly db: MetaDb;
  readonly networks = new Map<string, NetworkRecord>();
  readonly endpoints = new Map<string, EndpointRecord>();
  /** Endpoint IDs by container: container listings ask for every container's endpoints. */
  private readonly byContainer = new Map<string, Set<string>>();

  constructor(db: MetaDb) {
    this.db = db;
    for (const r of db.all<NetRow>('SELECT id, config FROM networks')) this.networks.set(r.id, JSON.parse(r.config) as NetworkRecord);
    for (const r of db.all<EpRow>('SELECT * FROM endpoints')) {
      this.index({ id: r.id, networkId: r.network_id, containerId: r.container_id, seq: Number(r.seq), config: JSON.parse(r.config), state: r.state ? JSON.parse(r.state) : null });
    }
  }

  tx<T>(fn: () => T): T {
    return this.db.tx(fn);
  }

  putNetwork(n: NetworkRecord): void {
    this.db.run('INSERT INTO networks (id, name, driver, created, config) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, config = excluded.config', n.id, n.name, n.driver, n.created, JSON.stringify(n));
    this.networks.set(n.id, n);
  }

  deleteNetwork(id: string): void {
    this.db.run('DELETE FROM networks WHERE id = ?', id);
    this.networks.delete(id);
  }

  putEndpoint(e: EndpointRecord): void {
    this.db.run(
      'INSERT INTO endpoints (id, network_id, container_id, seq, config, state) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config, state = excluded.state, seq = excluded.seq',
      e.id, e.networkId, e.containerId, e.seq, JSON.stringify(e.config), e.state ? JSON.stringify(e.state) : null,
    );
    this.index(e);
  }

  private index(e: EndpointRecord): void {
    const old = this.endpoints.get(e.id);
    if (old && old.containerId !== e.containerId) this.unindex(old);
    this.endpoints.set(e.id, e);
    let ids = this.byContainer.get(e.containerId);
    if (!ids) this.byContainer.set(e.containerId, (ids = new Set()));
    ids.add(e.id);
  }

  private unindex(e: EndpointRecord): void {
    const ids = this.byContainer.get(e.containerId);
    ids?.delete(e.id);
    if (ids?.size === 0) this.byContainer.delete(e.containerId);
  }

  deleteEndpoint(id: string): void {
    this.db.run('DELETE FROM endpoints WHERE id = ?', id);
    const e = this.endpoints.get(id);
    if (e) this.unindex(e);
    this.endpoints.delete(id);
  }

  endpointsOf(containerId: string): EndpointRecord[] {
    const ids = this.byContainer.get(containerId);
    if (!ids) return [];
    const out: EndpointRecord[] = [];
    for (const id of ids) {
      const e = this.endpoints.get(id);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  endpointsOn(networkId: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.networkId === networkId);
  }

  endpoint(networkId: string, containerId: string): EndpointRecord | undefined {
    for (const e of this.endpoints.values()) if (e.networkId === networkId && e.containerId === containerId) return e;
    return undefined;
  }
}
