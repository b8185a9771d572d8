import { Filters } from '../../lib/filters.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { ContainerSummary } from '../../types/docker.ts';
import type { ContainerDeps } from './deps.ts';
import { containerRwSize } from './size.ts';
import type { ContainerRecord } from './record.ts';
import { summary } from './view.ts';
import { containerNetworks } from './network.ts';

const PS_FILTERS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'volume', 'network', 'health', 'isolation', 'is-task', 'publish', 'expose'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export interface ListOptions {
  all: boolean;
  limit?: number;
  size: boolean;
  filters?: string | null;
}

async function ancestorMatches(deps: ContainerDeps, rec: ContainerRecord, ref: string): Promise<boolean> {
  if (rec.imageRef === ref || rec.imageId === ref || rec.imageId.slice(7).startsWith(ref)) return true;
  try {
    return (await deps.images.resolve(ref)).id === rec.imageId;
  } catch {
    return false;
  }
}

/** GET /containers/json */
export async function listContainers(deps: ContainerDeps, opts: ListOptions): Promise<ContainerSummary[]> {
  const f = Filters.parse(opts.filters, PS_FILTERS);
  for (const s of f.get('status')) if (!STATUSES.includes(s)) throw new InvalidParameter(`invalid filter 'status=${s}'`);
  // moby's health filter values: starting, healthy, unhealthy, none.
  for (const h of f.get('health')) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw new InvalidParameter(`Unrecognised filter value for health: ${h}`);
  for (const e of f.get('exited')) if (!/^-?\d+$/.test(e)) throw new InvalidParameter(`invalid filter 'exited=${e}'`);
  let recs = deps.repo.all().sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  const before = f.get('before')[0];
  const since = f.get('since')[0];
  if (before) {
    const b = deps.repo.find(before);
    recs = recs.filter((r) => r.created < b.created);
  }
  if (since) {
    const s = deps.repo.find(since);
    recs = recs.filter((r) => r.created > s.created);
  }
  // Without all=1 only running containers, unless a status filter asks for others (docker).
  const showAll = opts.all || f.has('status') || f.has('exited') || (opts.limit !== undefined && opts.limit > 0) || !!before || !!since;
  const out: ContainerSummary[] = [];
  for (const rec of recs) {
    if (!showAll && rec.state.status !== 'running' && rec.state.status !== 'paused') continue;
    if (!f.matchAny('id', (v) => rec.id.startsWith(v))) continue;
    if (!f.matchAny('name', (v) => new RegExp(v).test(`/${rec.name}`))) continue;
    if (!f.matchLabels('label', rec.config.Labels)) continue;
    if (!f.matchAny('status', (v) => v === rec.state.status)) continue;
    if (!f.matchAny('health', (v) => v === (rec.state.health?.Status ?? 'none'))) continue;
    if (f.has('exited') && !(rec.state.status === 'exited' && f.matchAny('exited', (v) => Number(v) === rec.state.exitCode))) continue;
    // volume=NAME or volume=/destination (moby: a mount's name or its destination)
    if (f.has('volume') && !(deps.volumes?.mountPoints(rec.id) ?? []).some((m) => f.matchAny('volume', (v) => v === m.Name || v === m.Destination))) continue;
    // network=NAME|ID (issue 6): the container is attached to it.
    if (f.has('network') && !containerNetworks(deps, rec).some((n) => f.matchAny('network', (v) => v === n.name || n.id.startsWith(v)))) continue;
    if (f.has('ancestor')) {
      let ok = false;
      for (const a of f.get('ancestor')) if (await ancestorMatches(deps, rec, a)) ok = true;
      if (!ok) continue;
    }
    let sizes: { rw: number; rootFs: number } | undefined;
    if (opts.size) {
      // An active snapshot's recorded size is 0: measure what the container wrote.
      const rw = await containerRwSize(deps, rec.id);
      const image = deps.images.get(rec.imageId);
      sizes = { rw, rootFs: rw + (image?.size ?? 0) };
    }
    out.push(summary(rec, sizes, deps));
    if (opts.limit !== undefined && opts.limit > 0 && out.length >= opts.limit) break;
  }
  return out;
}
