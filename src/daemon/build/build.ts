// POST /build (the classic builder protocol): read the context (indexed, unpacked only if a step
// needs its files), apply .dockerignore, run the Dockerfile, tag the result; progress as Docker's
// JSON message stream.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runBuild, BuildStepError, type BuilderDeps } from '../../builder/dockerfile/evaluator.ts';
import { ContextTree, type ContextScratch } from '../../builder/context/tree.ts';
import { resolveInView } from '../../builder/fs.ts';
import type { RunHostConfig } from '../../builder/runner.ts';
import { dockerignoreMatcher, parseDockerignore } from '../../lib/dockerignore.ts';
import { shortId } from '../../lib/digest.ts';
import { log } from '../../lib/logger.ts';
import { BerthError, InvalidParameter, errorMessage } from '../../lib/errors.ts';
import { entryComponents } from '../../lib/safepath.ts';
import { familiar, formatReference, parseNormalizedNamed, withDefaultTag } from '../../store/images/reference.ts';
import type { JSONMessage } from '../../types/docker.ts';
import { publishImageEvent } from '../images/deps.ts';
import { preparePull } from '../images/pull.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { BuildServiceDeps } from './deps.ts';
import { fetchForAdd } from './fetch.ts';
import { ContainerStepRunner } from './runner.ts';

export interface BuildParams {
  /** `t`, as the client sent them. */
  tags: string[];
  /** Path of the Dockerfile inside the context. */
  dockerfile?: string;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  noCache: boolean;
  quiet: boolean;
  hostConfig: RunHostConfig;
  platform?: string;
  pull?: boolean;
  /** The X-Registry-Config header: base64 JSON of credentials by registry address. */
  registryConfig?: string;
  /** Aborted when the client disconnects. */
  signal?: AbortSignal;
  /** `cachefrom`: image references usable as cache sources. */
  cacheFrom?: string[];
}

export interface BuildOutput {
  write(message: JSONMessage): void;
  /** Whether anything was written (after that, errors go in-band). */
  readonly started: boolean;
}

/** Normalized references for the `t` parameters; throws InvalidParameter (before the stream starts). */
export function buildTargets(tags: readonly string[]): string[] {
  return tags.map((t) => {
    const ref = parseNormalizedNamed(t);
    if (ref.digest !== undefined) throw new InvalidParameter(`invalid reference format: cannot tag with a digest: ${t}`);
    return formatReference(withDefaultTag(ref));
  });
}

function parsePlatform(p: string | undefined): { os: string; architecture: string } | undefined {
  if (!p) return undefined;
  const [os, architecture] = p.split('/');
  if (os !== 'linux' || (architecture && architecture !== 'amd64')) throw new InvalidParameter(`platform ${p} is not supported: this berthd builds linux/amd64 only`);
  return { os: 'linux', architecture: 'amd64' };
}

function sourceDateEpoch(args: Record<string, string | null>): number | undefined {
  const v = args.SOURCE_DATE_EPOCH;
  if (v === undefined || v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new InvalidParameter(`invalid SOURCE_DATE_EPOCH: ${v}`);
  return Number(v);
}

async function readDockerfile(ctx: ContextTree, name: string | undefined): Promise<{ text: string; rel: string }> {
  const candidates = name ? [name] : ['Dockerfile', 'dockerfile'];
  for (const c of candidates) {
    let parts: string[];
    try {
      parts = await resolveInView(ctx, entryComponents(c));
    } catch {
      continue;
    }
    const data = await ctx.readFile(parts);
    if (data) return { text: data.toString('utf8'), rel: parts.join('/') };
  }
  throw new InvalidParameter(`Cannot locate specified Dockerfile: ${name ?? 'Dockerfile'}`);
}

/** The build's private directory under buildsDir: named now, made only if something is written. */
function buildScratch(buildsDir: string): ContextScratch & { made: boolean } {
  const path = join(buildsDir, `build-${randomBytes(8).toString('hex')}`);
  let making: Promise<void> | undefined;
  const scratch = {
    path,
    made: false,
    make(): Promise<void> {
      making ??= (async () => {
        await mkdir(buildsDir, { recursive: true, mode: 0o700 });
        await mkdir(path, { mode: 0o700 });
        scratch.made = true;
      })();
      return making;
    },
  };
  return scratch;
}

/**
 * Build an image. Errors before any output are thrown (the route answers with an HTTP error);
 * after that they are written in-band as `errorDetail` and the promise resolves undefined.
 */
export async function buildImage(deps: BuildServiceDeps, params: BuildParams, body: Readable, out: BuildOutput): Promise<string | undefined> {
  const refs = buildTargets(params.tags);
  const platform = parsePlatform(params.platform);
  const epoch = sourceDateEpoch(params.buildArgs);
  const scratch = buildScratch(deps.buildsDir);
  const quietBuffer: string[] = [];
  let failure: unknown;
  let context: ContextTree | undefined;
  const stream = (text: string): void => {
    if (params.quiet) quietBuffer.push(text);
    else out.write({ stream: text });
  };
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (name: string): void => {
    phases[name] = Math.round((performance.now() - t0) * 10) / 10;
  };
  try {
    context = await ContextTree.receive(body, scratch);
    mark('received');
    const df = await readDockerfile(context, params.dockerfile);
    const ignoreFile = await context.readFile(['.dockerignore']);
    // As dockerd (moby's removeDockerfile): once the Dockerfile is read, it and .dockerignore go too
    // when .dockerignore names them (`docker build -f -` sends both, and lists both in it).
    if (ignoreFile) context.applyIgnore(dockerignoreMatcher(parseDockerignore(ignoreFile.toString('utf8'))));
    mark('dockerfile');
    const { images, containers } = deps;
    const builderDeps: BuilderDeps = {
      content: images.content,
      images: images.images,
      snapshots: images.snapshots,
      cache: deps.cache,
      runner: new ContainerStepRunner({ containers, store: { content: images.content, snapshotter: images.snapshots, images: images.images }, cacheMountsDir: deps.cacheMountsDir, viewMountsDir: deps.viewMountsDir }),
      fetchUrl: fetchForAdd,
      pullImage: images.registry ? (ref) => pullBase(deps, ref, params.registryConfig, (m) => (params.quiet ? undefined : out.write(m))) : undefined,
    };
    const result = await runBuild(
      builderDeps,
      df.text,
      { context, buildArgs: params.buildArgs, target: params.target, noCache: params.noCache, pull: params.pull, signal: params.signal, cacheFrom: params.cacheFrom, labels: params.labels, hostConfig: params.hostConfig, sourceDateEpoch: epoch, platform },
      { stream },
    );
    mark('built');
    if (result.unusedArgs.length > 0) stream(`[Warning] One or more build-args [${result.unusedArgs.join(' ')}] were not consumed\n`);
    out.write({ aux: { ID: result.imageId } });
    if (params.quiet) out.write({ stream: `${result.imageId}\n` });
    else stream(`Successfully built ${shortId(result.imageId)}\n`);
    for (const ref of refs) {
      images.images.tag(result.imageId, ref);
      publishImageEvent(images, result.imageId, 'tag', familiar(ref));
      stream(`Successfully tagged ${familiar(ref)}\n`);
    }
    mark('tagged');
    return result.imageId;
  } catch (err) {
    if (!out.started && !(err instanceof BuildStepError)) throw err;
    failure = err;
  } finally {
    try {
      deps.cache.flushUsage();
    } catch (err) {
      log.warn('cannot record build cache use', { error: err });
    }
    await context?.close();
    // The directory is made only by a spilled context or an unpacking (a step that needed files).
    if (scratch.made) await rm(scratch.path, { recursive: true, force: true });
    mark('cleaned');
    log.debug('build phases (ms)', phases);
  }
  // Reported after the cleanup: a client that stops reading at the error finds nothing left over.
  if (params.quiet) for (const t of quietBuffer) out.write({ stream: t });
  const message = errorMessage(failure);
  const code = failure instanceof BuildStepError ? failure.code : undefined;
  out.write({ errorDetail: code !== undefined ? { code, message } : { message }, error: message });
  return undefined;
}

/** Credentials for `domain` from X-Registry-Config, re-encoded as an X-Registry-Auth header. */
export function registryAuthFor(config: string | undefined, domain: string): string | undefined {
  if (!config) return undefined;
  let map: Record<string, unknown>;
  try {
    map = JSON.parse(Buffer.from(config.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const keys = domain === 'docker.io' ? ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io'] : [domain, `https://${domain}`, `http://${domain}`];
  for (const k of keys) {
    const entry = map[k];
    if (entry && typeof entry === 'object') return Buffer.from(JSON.stringify(entry)).toString('base64url');
  }
  return undefined;
}

/** Pull a FROM image through the image service, its progress in the build's stream. */
async function pullBase(deps: BuildServiceDeps, ref: string, registryConfig: string | undefined, sink: (m: JSONMessage) => void): Promise<ImageRecord> {
  const domain = parseNormalizedNamed(ref).domain;
  let id: string;
  try {
    const plan = await preparePull(deps.images, { fromImage: ref, registryAuth: registryAuthFor(registryConfig, domain) });
    id = await plan.run(sink);
  } catch (err) {
    // Name the image: the registry's own message may not.
    if (err instanceof BerthError && !err.message.includes(ref)) throw new BerthError(err.kind, `pull ${ref}: ${err.message}`, { cause: err });
    throw err;
  }
  const image = deps.images.images.get(id);
  if (!image) throw new InvalidParameter(`pulled ${ref} but the image ${id} is missing`);
  return image;
}
