import type { Router } from '../router.ts';
import { intParam, readJson, sendEmpty, sendJson } from '../context.ts';
import { readJsonMaybeUpgraded } from '../upgrade-body.ts';
import { hijack, streamContentType } from '../streams.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { ExecCreateRequest, ExecStartRequest } from '../../types/docker.ts';
import type { ExecDeps } from '../../daemon/exec/deps.ts';
import { createExec } from '../../daemon/exec/create.ts';
import { prepareExecStart } from '../../daemon/exec/start.ts';
import { inspectExec } from '../../daemon/exec/inspect.ts';
import { resizeExec } from '../../daemon/exec/resize.ts';

/** /containers/{id}/exec and /exec/...: parse, call the daemon service, send. */
export function registerExecRoutes(router: Router, deps: ExecDeps): void {
  router.on('POST', '/containers/:id/exec', async (ctx) => {
    const body = await readJson<ExecCreateRequest>(ctx);
    if (!body) throw new InvalidParameter('No exec command specified');
    sendJson(ctx, 201, createExec(deps, ctx.params.id, body));
  });

  router.on('POST', '/exec/:id/start', async (ctx) => {
    const body = (await readJsonMaybeUpgraded<ExecStartRequest>(ctx)) ?? {};
    const start = prepareExecStart(deps, ctx.params.id, { detach: !!body.Detach, consoleSize: body.ConsoleSize });
    if (body.Detach) {
      await start.run();
      if (ctx.upgradeSocket) {
        ctx.upgradeSocket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      sendEmpty(ctx, 200);
      return;
    }
    await start.run(hijack(ctx, streamContentType(ctx, start.tty)));
  });

  router.on('GET', '/exec/:id/json', async (ctx) => {
    sendJson(ctx, 200, inspectExec(deps, ctx.params.id));
  });

  router.on('POST', '/exec/:id/resize', async (ctx) => {
    const h = intParam(ctx.query, 'h') ?? 0;
    const w = intParam(ctx.query, 'w') ?? 0;
    await resizeExec(deps, ctx.params.id, h, w);
    sendEmpty(ctx, 200);
  });
}
