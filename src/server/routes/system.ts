import type { Router } from '../router.ts';
import { sendJson, type RequestContext } from '../context.ts';
import { API_VERSION } from '../../api/version.ts';
import type { EventBus } from '../../lib/events.ts';
import { openEventStream } from '../../daemon/system/events.ts';
import type { VersionResponse } from '../../types/docker.ts';

export interface SystemRoutesDeps {
  events: EventBus;
  version: () => VersionResponse;
  info: () => Record<string, unknown>;
  /** Count of live /events listeners (for /info). */
  listeners: { count: number };
}

function ping(ctx: RequestContext): Promise<void> {
  const res = ctx.res!;
  res.writeHead(200, {
    'Api-Version': API_VERSION,
    'Builder-Version': '1',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': ctx.method === 'HEAD' ? 0 : 2,
  });
  res.end(ctx.method === 'HEAD' ? undefined : 'OK');
  return Promise.resolve();
}

export function registerSystemRoutes(router: Router, deps: SystemRoutesDeps): void {
  router.on(['GET', 'HEAD'], '/_ping', ping);
  router.on('GET', '/version', async (ctx) => sendJson(ctx, 200, deps.version()));
  router.on('GET', '/info', async (ctx) => sendJson(ctx, 200, deps.info()));
  router.on('GET', '/events', async (ctx) => {
    const res = ctx.res!;
    const q = ctx.query;
    const run = openEventStream(deps.events, { since: q.get('since'), until: q.get('until'), filters: q.get('filters') });
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    deps.listeners.count++;
    try {
      await run((ev) => void res.write(JSON.stringify(ev) + '\n'), abort.signal);
    } finally {
      deps.listeners.count--;
    }
    res.end();
  });
}
