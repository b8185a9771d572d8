import type { Router } from '../router.ts';
import { boolParam, sendEmpty, sendJson, type RequestContext } from '../context.ts';
import { startJsonStream } from '../streams.ts';
import { NotFound, NotImplemented, errorMessage } from '../../lib/errors.ts';
import type { ImageServiceDeps } from '../../daemon/images/deps.ts';
import { createImageService, type ImageService } from '../../daemon/images/service.ts';

/** What the image routes need: the image services' dependencies (cmd/berthd.ts passes the backends). */
export type ImageRoutesDeps = ImageServiceDeps;

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

async function createImage(svc: ImageService, ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const fromImage = optional(q, 'fromImage');
  if (fromImage !== undefined) {
    await svc.pullImage({ fromImage, tag: optional(q, 'tag') });
    return;
  }
  const params = {
    fromSrc: q.get('fromSrc') ?? '',
    repo: optional(q, 'repo'),
    tag: optional(q, 'tag'),
    message: optional(q, 'message'),
    changes: q.getAll('changes').filter((c) => c !== ''),
  };
  // Errors found before the stream starts are HTTP errors; later ones go in-band.
  svc.checkImport(params);
  const stream = startJsonStream(ctx);
  try {
    const id = await svc.importImage(params, ctx.req);
    stream.write({ status: id });
  } catch (err) {
    const message = errorMessage(err);
    stream.write({ errorDetail: { message }, error: message });
  }
  stream.end();
}

/** `/images/{name}/{op}` where name may contain slashes: split off a known suffix. */
function splitName(rest: string, suffixes: readonly string[]): { name: string; op: string } {
  for (const op of suffixes) {
    if (rest.endsWith('/' + op)) return { name: rest.slice(0, -(op.length + 1)), op };
  }
  return { name: rest, op: '' };
}

function notFoundRoute(): never {
  throw new NotFound('page not found');
}

export function registerImageRoutes(router: Router, deps: ImageRoutesDeps): void {
  const svc = createImageService(deps);

  router.on('POST', '/images/create', (ctx) => createImage(svc, ctx));

  router.on('GET', '/images/json', async (ctx) => {
    sendJson(ctx, 200, svc.listImages({ all: boolParam(ctx.query, 'all'), filters: ctx.query.get('filters') }));
  });

  router.on('GET', '/images/*', async (ctx) => {
    const { name, op } = splitName(ctx.params['*'] ?? '', ['json', 'history']);
    if (name === '') notFoundRoute();
    if (op === 'json') sendJson(ctx, 200, await svc.inspectImage(name));
    else if (op === 'history') sendJson(ctx, 200, await svc.imageHistory(name));
    else notFoundRoute();
  });

  router.on('POST', '/images/*', async (ctx) => {
    const { name, op } = splitName(ctx.params['*'] ?? '', ['tag', 'push']);
    if (name === '') notFoundRoute();
    if (op === 'tag') {
      svc.tagImage({ name, repo: ctx.query.get('repo') ?? '', tag: optional(ctx.query, 'tag') });
      sendEmpty(ctx, 201);
    } else if (op === 'push') {
      throw new NotImplemented('push needs a registry client, which this berthd does not have yet');
    } else notFoundRoute();
  });

  router.on('DELETE', '/images/*', async (ctx) => {
    const name = ctx.params['*'] ?? '';
    if (name === '') notFoundRoute();
    const records = await svc.removeImage({ name, force: boolParam(ctx.query, 'force'), noprune: boolParam(ctx.query, 'noprune') });
    sendJson(ctx, 200, records);
  });
}
