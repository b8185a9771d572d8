import type { Router } from '../router.ts';
import { boolParam, readJson, sendEmpty, sendJson, type RequestContext } from '../context.ts';
import { startJsonStream } from '../streams.ts';
import { NotFound, errorMessage } from '../../lib/errors.ts';
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
    await pull(svc, ctx, fromImage);
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

function registryAuth(ctx: RequestContext): string | undefined {
  const h = ctx.req.headers['x-registry-auth'];
  return typeof h === 'string' ? h : undefined;
}

/** Pull: errors resolving the manifest are HTTP errors; later ones go in-band. */
async function pull(svc: ImageService, ctx: RequestContext, fromImage: string): Promise<void> {
  // no `tag` parameter at all: `docker pull -a`, every tag
  const plan = await svc.preparePull({ fromImage, tag: optional(ctx.query, 'tag'), allTags: !ctx.query.has('tag'), platform: optional(ctx.query, 'platform'), registryAuth: registryAuth(ctx) });
  const stream = startJsonStream(ctx);
  const cancel = new AbortController();
  ctx.res!.once('close', () => {
    if (!ctx.res!.writableFinished) cancel.abort();
  });
  try {
    await plan.run(stream.write, cancel.signal);
  } catch (err) {
    const message = errorMessage(err);
    stream.write({ errorDetail: { message }, error: message });
  }
  stream.end();
}

/** Push: always a 200 stream; failures (even a missing local image) are reported in-band, as dockerd does. */
async function push(svc: ImageService, ctx: RequestContext, name: string): Promise<void> {
  const stream = startJsonStream(ctx);
  try {
    await svc.pushImage({ name, tag: optional(ctx.query, 'tag'), registryAuth: registryAuth(ctx) }, stream.write);
  } catch (err) {
    const message = errorMessage(err);
    stream.write({ errorDetail: { message }, error: message });
  }
  stream.end();
}

/** docker save: unknown names are a 404 before any byte; a later failure cuts the stream. */
async function save(svc: ImageService, ctx: RequestContext, names: string[]): Promise<void> {
  const plan = await svc.prepareSave(names);
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await plan.write(res);
  } catch (err) {
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

async function load(svc: ImageService, ctx: RequestContext): Promise<void> {
  const quiet = boolParam(ctx.query, 'quiet');
  const stream = startJsonStream(ctx);
  try {
    await svc.loadImages(ctx.req, stream.write, quiet);
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
  router.on('POST', '/auth', async (ctx) => sendJson(ctx, 200, await svc.login(await readJson(ctx))));

  router.on('GET', '/images/json', async (ctx) => {
    sendJson(ctx, 200, svc.listImages({ all: boolParam(ctx.query, 'all'), filters: ctx.query.get('filters') }));
  });

  router.on('GET', '/images/get', (ctx) => save(svc, ctx, ctx.query.getAll('names').filter((n) => n !== '')));
  router.on('POST', '/images/load', (ctx) => load(svc, ctx));

  router.on('GET', '/images/*', async (ctx) => {
    const { name, op } = splitName(ctx.params['*'] ?? '', ['json', 'history', 'get']);
    if (name === '') notFoundRoute();
    if (op === 'json') sendJson(ctx, 200, await svc.inspectImage(name));
    else if (op === 'history') sendJson(ctx, 200, await svc.imageHistory(name));
    else if (op === 'get') await save(svc, ctx, [name]);
    else notFoundRoute();
  });

  router.on('POST', '/images/*', async (ctx) => {
    const { name, op } = splitName(ctx.params['*'] ?? '', ['tag', 'push']);
    if (name === '') notFoundRoute();
    if (op === 'tag') {
      svc.tagImage({ name, repo: ctx.query.get('repo') ?? '', tag: optional(ctx.query, 'tag') });
      sendEmpty(ctx, 201);
    } else if (op === 'push') {
      await push(svc, ctx, name);
    } else notFoundRoute();
  });

  router.on('DELETE', '/images/*', async (ctx) => {
    const name = ctx.params['*'] ?? '';
    if (name === '') notFoundRoute();
    const records = await svc.removeImage({ name, force: boolParam(ctx.query, 'force'), noprune: boolParam(ctx.query, 'noprune') });
    sendJson(ctx, 200, records);
  });
}
