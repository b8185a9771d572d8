import { once } from 'node:events';
import type { Router } from '../router.ts';
import { boolParam, intParam, readJson, sendEmpty, sendJson } from '../context.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { ContainerCreateRequest } from '../../types/docker.ts';
import type { ContainerDeps } from '../../daemon/containers/deps.ts';
import { createContainer } from '../../daemon/containers/create.ts';
import { startContainer } from '../../daemon/containers/start.ts';
import { stopContainer, killContainer } from '../../daemon/containers/stop.ts';
import { restartContainer } from '../../daemon/containers/restart.ts';
import { removeContainer } from '../../daemon/containers/remove.ts';
import { renameContainer } from '../../daemon/containers/rename.ts';
import { prepareWait } from '../../daemon/containers/wait.ts';
import { listContainers } from '../../daemon/containers/list.ts';
import { inspectContainer } from '../../daemon/containers/view.ts';
import { attachContainer } from '../../daemon/containers/attach.ts';
import { containerLogs } from '../../daemon/containers/logs.ts';
import { hijack, streamContentType } from '../streams.ts';

/** /containers/...: parse, call the daemon service, send. No logic here. */
export function registerContainerRoutes(router: Router, deps: ContainerDeps): void {
  router.on('POST', '/containers/create', async (ctx) => {
    const body = await readJson<ContainerCreateRequest>(ctx);
    if (!body) throw new InvalidParameter('config cannot be empty in order to create a container');
    sendJson(ctx, 201, await createContainer(deps, body, ctx.query.get('name') ?? undefined));
  });

  router.on('GET', '/containers/json', async (ctx) => {
    const q = ctx.query;
    sendJson(ctx, 200, await listContainers(deps, { all: boolParam(q, 'all'), limit: intParam(ctx.query, 'limit'), size: boolParam(q, 'size'), filters: q.get('filters') }));
  });

  router.on('GET', '/containers/:id/json', async (ctx) => {
    sendJson(ctx, 200, inspectContainer(deps, ctx.params.id));
  });

  router.on('POST', '/containers/:id/start', async (ctx) => {
    await startContainer(deps, ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/stop', async (ctx) => {
    await stopContainer(deps, ctx.params.id, { timeoutSec: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/restart', async (ctx) => {
    await restartContainer(deps, ctx.params.id, { timeoutSec: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/kill', async (ctx) => {
    await killContainer(deps, ctx.params.id, ctx.query.get('signal') ?? undefined);
    sendEmpty(ctx, 204);
  });

  router.on('DELETE', '/containers/:id', async (ctx) => {
    await removeContainer(deps, ctx.params.id, { force: boolParam(ctx.query, 'force'), removeVolumes: boolParam(ctx.query, 'v') });
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/rename', async (ctx) => {
    renameContainer(deps, ctx.params.id, ctx.query.get('name') ?? '');
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/wait', async (ctx) => {
    const res = ctx.res!;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const wait = prepareWait(deps, ctx.params.id, ctx.query.get('condition'), abort.signal);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    try {
      res.end(JSON.stringify(await wait()) + '\n');
    } catch {
      res.end(JSON.stringify({ Error: { Message: 'context canceled' }, StatusCode: -1 }) + '\n');
    }
  });

  router.on('POST', '/containers/:id/attach', async (ctx) => {
    const q = ctx.query;
    const session = attachContainer(deps, ctx.params.id, {
      stdin: boolParam(q, 'stdin'),
      stdout: boolParam(q, 'stdout'),
      stderr: boolParam(q, 'stderr'),
      stream: boolParam(q, 'stream'),
      logs: boolParam(q, 'logs'),
      detachKeys: q.get('detachKeys') ?? undefined,
    });
    const conn = hijack(ctx, streamContentType(ctx, session.tty));
    await session.run(conn);
  });

  router.on('GET', '/containers/:id/logs', async (ctx) => {
    const q = ctx.query;
    const res = ctx.res!;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const logs = containerLogs(deps, ctx.params.id, {
      stdout: boolParam(q, 'stdout'),
      stderr: boolParam(q, 'stderr'),
      follow: boolParam(q, 'follow'),
      timestamps: boolParam(q, 'timestamps'),
      tail: q.get('tail') ?? 'all',
      since: q.get('since') ?? undefined,
      until: q.get('until') ?? undefined,
      details: boolParam(q, 'details'),
    });
    res.writeHead(200, { 'Content-Type': streamContentType(ctx, logs.tty) });
    res.flushHeaders();
    await logs.run((chunk) => (res.write(chunk) ? undefined : once(res, 'drain', { signal: abort.signal }).then(() => undefined)), abort.signal).catch((err: unknown) => {
      if (!abort.signal.aborted) throw err;
    });
    res.end();
  });
}
