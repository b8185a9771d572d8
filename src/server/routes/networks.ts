import type { Router } from '../router.ts';
import { readJson, sendEmpty, sendJson } from '../context.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { NetworkCreateRequest, NetworkServiceDeps } from '../../daemon/networks/deps.ts';
import { createNetwork } from '../../daemon/networks/create.ts';
import { listNetworks } from '../../daemon/networks/list.ts';
import { inspectNetwork } from '../../daemon/networks/inspect.ts';
import { removeNetwork } from '../../daemon/networks/remove.ts';
import { pruneNetworks } from '../../daemon/networks/prune.ts';
import { connectContainer, type ConnectRequest } from '../../daemon/networks/connect.ts';
import { disconnectContainer } from '../../daemon/networks/disconnect.ts';

/** /networks/...: parse, call the daemon service, send. */
export function registerNetworkRoutes(router: Router, deps: NetworkServiceDeps): void {
  router.on('GET', '/networks', async (ctx) => {
    sendJson(ctx, 200, listNetworks(deps, ctx.query.get('filters')));
  });
  router.on('POST', '/networks/create', async (ctx) => {
    const body = await readJson<NetworkCreateRequest>(ctx);
    if (!body) throw new InvalidParameter('network config cannot be empty');
    sendJson(ctx, 201, await createNetwork(deps, body));
  });
  router.on('POST', '/networks/prune', async (ctx) => {
    sendJson(ctx, 200, await pruneNetworks(deps, ctx.query.get('filters')));
  });
  router.on('GET', '/networks/:id', async (ctx) => {
    sendJson(ctx, 200, inspectNetwork(deps, ctx.params.id));
  });
  router.on('DELETE', '/networks/:id', async (ctx) => {
    await removeNetwork(deps, ctx.params.id);
    sendEmpty(ctx, 204);
  });
  router.on('POST', '/networks/:id/connect', async (ctx) => {
    const body = await readJson<ConnectRequest>(ctx);
    await connectContainer(deps, ctx.params.id, body ?? { Container: '' });
    sendEmpty(ctx, 200);
  });
  router.on('POST', '/networks/:id/disconnect', async (ctx) => {
    const body = await readJson<{ Container: string; Force?: boolean }>(ctx);
    await disconnectContainer(deps, ctx.params.id, body ?? { Container: '' });
    sendEmpty(ctx, 200);
  });
}
