import type { Router } from '../router.ts';
import { boolParam, readJson, sendJson } from '../context.ts';
import type { ContainerConfig } from '../../types/docker.ts';
import type { ContainerFilesDeps } from '../../daemon/containers/files-deps.ts';
import { pruneContainers } from '../../daemon/containers/prune.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { RequestContext } from '../context.ts';

const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathStatHeader(stat: unknown): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

function archivePathParam(ctx: RequestContext): string {
  const path = ctx.query.get('path');
  if (!path) throw new InvalidParameter('path is required: the path of a file or directory in the container');
  return path;
}

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

/** Container files and images made from containers: /commit, changes, archive, export. No logic here. */
// commit, changes and the archive operations (tar-stream, the layer differ) are imported with
// their first request, not kept resident by an idle daemon (issue 2's memory budget)
const commitOps = (): Promise<typeof import('../../daemon/containers/commit.ts')> => import('../../daemon/containers/commit.ts');
const archiveOps = (): Promise<typeof import('../../daemon/containers/archive.ts')> => import('../../daemon/containers/archive.ts');

export function registerContainerFileRoutes(router: Router, deps: ContainerFilesDeps): void {
  router.on('POST', '/commit', async (ctx) => {
    const q = ctx.query;
    const config = await readJson<Partial<ContainerConfig>>(ctx);
    const { commitContainer } = await commitOps();
    const res = await commitContainer(deps, {
      container: q.get('container') ?? '',
      repo: optional(q, 'repo'),
      tag: optional(q, 'tag'),
      comment: optional(q, 'comment'),
      author: optional(q, 'author'),
      pause: boolParam(q, 'pause', true),
      changes: q.getAll('changes').filter((c) => c !== ''),
      config: config ?? null,
    });
    sendJson(ctx, 201, res);
  });

  router.on('GET', '/containers/:id/changes', async (ctx) => {
    const { containerChanges } = await import('../../daemon/containers/changes.ts');
    sendJson(ctx, 200, await containerChanges(deps, ctx.params.id));
  });

  router.on('HEAD', '/containers/:id/archive', async (ctx) => {
    const { statContainerPath } = await archiveOps();
    const stat = await statContainerPath(deps, ctx.params.id, archivePathParam(ctx));
    ctx.res!.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/x-tar', 'Content-Length': 0 }).end();
  });

  router.on('GET', '/containers/:id/archive', async (ctx) => {
    const res = ctx.res!;
    const { archiveContainerPath } = await archiveOps();
    await archiveContainerPath(deps, ctx.params.id, archivePathParam(ctx), (stat) => {
      res.writeHead(200, { [PATH_STAT_HEADER]: pathStatHeader(stat), 'Content-Type': 'application/x-tar' });
      return res;
    });
  });

  router.on('PUT', '/containers/:id/archive', async (ctx) => {
    const q = ctx.query;
    const { extractToContainer } = await archiveOps();
    await extractToContainer(deps, ctx.params.id, archivePathParam(ctx), ctx.req, {
      noOverwriteDirNonDir: boolParam(q, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(q, 'copyUIDGID'),
    });
    ctx.res!.writeHead(200, { 'Content-Length': 0 }).end();
  });

  router.on('GET', '/containers/:id/export', async (ctx) => {
    const res = ctx.res!;
    const { exportContainer } = await archiveOps();
    await exportContainer(deps, ctx.params.id, () => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      return res;
    });
  });

  router.on('POST', '/containers/prune', async (ctx) => {
    sendJson(ctx, 200, await pruneContainers(deps, ctx.query.get('filters')));
  });
}
