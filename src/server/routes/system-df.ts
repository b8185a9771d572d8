import type { Router } from '../router.ts';
import { sendJson } from '../context.ts';
import { systemDf, type SystemDfDeps } from '../../daemon/system/df.ts';

/** GET /system/df. No logic here. */
export function registerSystemDfRoutes(router: Router, deps: SystemDfDeps): void {
  router.on('GET', '/system/df', async (ctx) => {
    sendJson(ctx, 200, await systemDf(deps, ctx.query.getAll('type').filter((t) => t !== '')));
  });
}
