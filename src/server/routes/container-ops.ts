import type { Router } from '../router.ts';
import { intParam, sendEmpty } from '../context.ts';
import type { ContainerDeps } from '../../daemon/containers/deps.ts';
import { resizeContainer } from '../../daemon/containers/resize.ts';

/** Operations on a running container (issue 3): resize, top, stats, pause/unpause, update. */
export function registerContainerOpsRoutes(router: Router, deps: ContainerDeps): void {
  router.on('POST', '/containers/:id/resize', async (ctx) => {
    await resizeContainer(deps, ctx.params.id, intParam(ctx.query, 'h') ?? 0, intParam(ctx.query, 'w') ?? 0);
    sendEmpty(ctx, 200);
  });
}
