import { Filters, globMatch } from '../../lib/filters.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { NetworkRecord } from '../../network/types.ts';
import type { NetworkServiceDeps } from './deps.ts';
import { networkResource, type NetworkResource } from './view.ts';

const NETWORK_FILTERS = ['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling'];

export function filterNetworks(deps: NetworkServiceDeps, raw: string | null | undefined): NetworkRecord[] {
  const f = Filters.parse(raw, NETWORK_FILTERS);
  for (const t of f.get('type')) if (t !== 'custom' && t !== 'builtin') throw new InvalidParameter(`invalid filter: 'type'='${t}'`);
  const used = new Set([...deps.network.store.endpoints.values()].map((e) => e.networkId));
  const dangling = f.bool('dangling');
  return deps.network.list().filter(
    (n) =>
      f.matchAny('name', (v) => n.name.includes(v) || globMatch(v, n.name)) &&
      f.matchAny('id', (v) => n.id.startsWith(v)) &&
      f.matchAny('driver', (v) => n.driver === v) &&
      f.matchAny('type', (v) => (v === 'builtin') === n.builtin) &&
      f.matchAny('scope', (v) => v === 'local') &&
      f.matchLabels('label', n.labels) &&
      (dangling === undefined || dangling === (!n.builtin && !used.has(n.id))),
  );
}

/** GET /networks */
export function listNetworks(deps: NetworkServiceDeps, filters: string | null | undefined): NetworkResource[] {
  return filterNetworks(deps, filters)
    .sort((a, b) => (a.created < b.created ? -1 : 1))
    .map((n) => networkResource(deps, n));
}
