import type { Router } from '../router.ts';
import { boolParam, readJson, sendJson } from '../context.ts';
import type { ContainerConfig } from '../../types/docker.ts';
import type { ContainerFilesDeps } from '../../daemon/containers/files-deps.ts';
import { commitContainer } from '../../daemon/containers/commit.ts';
import { containerChanges } from '../../daemon/containers/changes.ts';

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

/** Container files and images made from containers: /commit, changes, archive, export. No logic here. */
export function registerContainerFileRoutes(router: Router, deps: ContainerFilesDeps): void {
  router.on('POST', '/commit', async (ctx) => {
    const q = ctx.query;
    const config = await readJson<Partial<ContainerConfig>>(ctx);
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
    sendJson(ctx, 200, await containerChanges(deps, ctx.params.id));
  });
}
