import type { ServerResponse } from 'node:http';
import type { Router } from '../router.ts';
import { boolParam, intParam, sendJson, type RequestContext } from '../context.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { BuildServiceDeps } from '../../daemon/build/deps.ts';
import type { BuildOutput, BuildParams } from '../../daemon/build/build.ts';
import type { JSONMessage } from '../../types/docker.ts';

function jsonParam<T>(q: URLSearchParams, name: string, check: (v: unknown) => v is T, dflt: T): T {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidParameter(`invalid ${name} parameter: ${raw}`);
  }
  if (v === null) return dflt;
  if (!check(v)) throw new InvalidParameter(`invalid ${name} parameter: ${raw}`);
  return v;
}

const isStringMap = (v: unknown): v is Record<string, string | null> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x === 'string');

function buildParams(ctx: RequestContext): BuildParams {
  const q = ctx.query;
  const labels = jsonParam(q, 'labels', isStringMap, {});
  const optional = (n: string): string | undefined => q.get(n) || undefined;
  const hostConfig: BuildParams['hostConfig'] = {};
  const network = optional('networkmode');
  if (network && network !== 'default') hostConfig.NetworkMode = network;
  const ints: Array<[string, keyof BuildParams['hostConfig']]> = [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuperiod', 'CpuPeriod'],
    ['cpuquota', 'CpuQuota'],
    ['shmsize', 'ShmSize'],
  ];
  for (const [param, field] of ints) {
    const v = intParam(q, param);
    if (v) (hostConfig as Record<string, number>)[field] = v;
  }
  if (optional('cpusetcpus')) hostConfig.CpusetCpus = optional('cpusetcpus');
  if (optional('cpusetmems')) hostConfig.CpusetMems = optional('cpusetmems');
  return {
    tags: q.getAll('t').filter((t) => t !== ''),
    dockerfile: optional('dockerfile'),
    buildArgs: jsonParam(q, 'buildargs', isStringMap, {}),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, v ?? ''])),
    target: optional('target'),
    noCache: boolParam(q, 'nocache'),
    quiet: boolParam(q, 'q'),
    hostConfig,
    platform: optional('platform'),
    pull: boolParam(q, 'pull'),
    cacheFrom: jsonParam(q, 'cachefrom', (v): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string'), []),
    registryConfig: typeof ctx.req.headers['x-registry-config'] === 'string' ? ctx.req.headers['x-registry-config'] : undefined,
  };
}

/**
 * A JSON-lines response that starts on the first message, so early errors stay HTTP errors.
 * Messages written in one turn of the event loop (a run of cache hits) go out as one chunk.
 */
function lazyStream(res: ServerResponse): BuildOutput & { end: () => void } {
  let started = false;
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    res.write(text);
  };
  return {
    get started() {
      return started;
    },
    write(m: JSONMessage) {
      if (!started) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        started = true;
      }
      if (pending === '') process.nextTick(flush);
      pending += JSON.stringify(m) + '\r\n';
    },
    end() {
      if (!started) res.writeHead(200, { 'Content-Type': 'application/json' });
      flush();
      res.end();
    },
  };
}

/** /build and /build/prune: parse, call the build service (loaded on first use), stream. */
export function registerBuildRoutes(router: Router, deps: BuildServiceDeps): void {
  router.on('POST', '/build', async (ctx) => {
    const params = buildParams(ctx);
    if (ctx.query.get('remote')) throw new InvalidParameter('remote build contexts are not supported; send the context as the request body');
    const { buildImage, buildTargets } = await import('../../daemon/build/build.ts');
    buildTargets(params.tags);
    const out = lazyStream(ctx.res!);
    // A client that goes away (Ctrl-C) cancels the build: no further step, a running RUN killed.
    const abort = new AbortController();
    const onClose = (): void => {
      if (!ctx.res!.writableFinished) abort.abort();
    };
    ctx.res!.on('close', onClose);
    try {
      await buildImage(deps, { ...params, signal: abort.signal }, ctx.req, out);
    } finally {
      ctx.res!.off('close', onClose);
    }
    out.end();
  });

  router.on('POST', '/build/prune', async (ctx) => {
    const { pruneBuildCache } = await import('../../daemon/build/prune.ts');
    sendJson(ctx, 200, await pruneBuildCache(deps));
  });
}
