// The state of a build in progress: options, per-stage dispatch state, and the one operation every
// instruction ends with, committing a step (with the cache lookup before it).
import type { Readable } from 'node:stream';
import { InvalidParameter } from '../../lib/errors.ts';
import { chainId, shortId } from '../../lib/digest.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageConfig, ImageRunConfig } from '../../types/oci.ts';
import { stepKey, type BuildCache } from '../cache.ts';
import { addLayer, commitImage, layerDirs, type ImageCommitDeps } from '../image.ts';
import { LayerView, type ContextSource, type TreeView } from '../fs.ts';
import type { StepRunner, RunHostConfig } from '../runner.ts';
import type { Instruction, Stage } from './parse.ts';
import { processWord, processWords, type Vars } from './shell.ts';

export interface BuilderDeps extends ImageCommitDeps {
  cache: BuildCache;
  runner: StepRunner;
  /** Pull an image a FROM names that is not here (or always, with `pull`); absent: no registry. */
  pullImage?: (ref: string) => Promise<ImageRecord>;
  /** Fetch a URL for ADD (the daemon decides what is reachable). */
  fetchUrl?: (url: string) => Promise<{ data: Buffer; lastModified?: Date }>;
}

export interface BuildRequest {
  /** The build context (its files as a view; unpacked to a directory only for the steps that need it). */
  context: ContextSource;
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  /** Pull base images even when they are here (`--pull`). */
  pull?: boolean;
  labels: Record<string, string>;
  hostConfig: RunHostConfig;
  /** SOURCE_DATE_EPOCH (seconds): image and history times, layer mtimes clamped. */
  sourceDateEpoch?: number;
  platform?: { os: string; architecture: string };
  /** Aborted when the client goes away: no further step starts, a running RUN is killed. */
  signal?: AbortSignal;
  /** `--cache-from`: images (e.g. pulled or loaded, without local step images) whose history may stand in for steps. */
  cacheFrom?: string[];
}

export interface BuildProgress {
  stream(text: string): void;
}

/** A failed step: the message Docker prints and, for RUN, the command's exit code. */
export class BuildStepError extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.name = 'BuildStepError';
    this.code = code;
  }
}

/** Build arguments that every stage sees without declaring them (moby's BuiltinAllowedBuildArgs). */
export const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface StageState {
  stage: Stage;
  /** The image of the last step (undefined: FROM scratch and nothing committed yet). */
  image?: ImageRecord;
  config: ImageConfig;
  /** ARGs declared in this stage and their values (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** This stage's progress output (stages may run concurrently; the evaluator orders their output). */
  say: (text: string) => void;
}

export function cloneConfig(c: ImageConfig): ImageConfig {
  return structuredClone(c);
}

export function runConfig(c: ImageConfig): ImageRunConfig {
  c.config ??= {};
  return c.config;
}

export function envToMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

export class BuildRun {
  readonly deps: BuilderDeps;
  readonly req: BuildRequest;
  readonly progress: BuildProgress;
  readonly escape: string;
  /** Global ARG values (before the first FROM). */
  readonly metaArgs = new Map<string, string | undefined>();
  /** Stage results by name and by index. */
  readonly stageImages = new Map<string, ImageRecord | undefined>();
  /** Build arguments some ARG consumed (for the "not consumed" warning). */
  readonly consumedArgs = new Set<string>();

  constructor(deps: BuilderDeps, req: BuildRequest, progress: BuildProgress, escape: string) {
    this.deps = deps;
    this.req = req;
    this.progress = progress;
    this.escape = escape;
  }

  get context(): TreeView {
    return this.req.context;
  }

  /** The context's files on disk (unpacked on first use: only steps that miss the cache need them). */
  contextDir(): Promise<string> {
    return this.req.context.dir();
  }

  say(text: string): void {
    this.progress.stream(text);
  }

  /** The time written into configs and history: SOURCE_DATE_EPOCH when set. */
  now(): Date {
    return this.req.sourceDateEpoch !== undefined ? new Date(this.req.sourceDateEpoch * 1000) : new Date();
  }

  /** Variables an instruction of the stage sees: declared ARGs, then ENV over them. */
  vars(st: StageState): Vars {
    const m = new Map<string, string>();
    for (const [k, v] of st.args) if (v !== undefined) m.set(k, v);
    for (const [k, v] of envToMap(st.config.config?.Env)) m.set(k, v);
    return m;
  }

  metaVars(): Vars {
    const m = new Map<string, string>();
    for (const [k, v] of this.metaArgs) if (v !== undefined) m.set(k, v);
    return m;
  }

  word(st: StageState, text: string): string {
    return processWord(text, this.vars(st), this.escape);
  }

  words(st: StageState, text: string): string[] {
    return processWords(text, this.vars(st), this.escape);
  }

  flag(ins: Instruction, name: string): string | undefined {
    const f = ins.flags.find((x) => x.name === name);
    return f ? (f.value ?? '') : undefined;
  }

  checkFlags(ins: Instruction, allowed: readonly string[]): void {
    for (const f of ins.flags) {
      if (!allowed.includes(f.name)) throw new InvalidParameter(`Unknown flag: ${f.name}`);
    }
  }

  /** A view of the image built so far in a stage (its layers merged). */
  async imageView(config: ImageConfig): Promise<TreeView> {
    return new LayerView(await layerDirs(this.deps.snapshots, config.rootfs.diff_ids));
  }

  /**
   * One step: look the cache up by (parent, key); on a miss apply `mutate` to a copy of the config,
   * add the layer `makeLayer` produces (if any), and commit the image; the result becomes the
   * stage's current image.
   */
  async commitStep(
    st: StageState,
    opts: {
      keyParts: string[];
      createdBy: string;
      mutate?: (cfg: ImageConfig) => void;
      makeLayer?: () => Promise<Readable | undefined>;
      /** Instead of makeLayer: produce the step's image another way (RUN commits its container). */
      makeImage?: (cfg: ImageConfig) => Promise<ImageRecord>;
    },
  ): Promise<void> {
    if (this.req.signal?.aborted) throw new BuildStepError('the build was cancelled: the client went away');
    const parent = st.image?.id ?? '';
    const key = stepKey([...opts.keyParts]);
    if (!this.req.noCache) {
      const image = this.deps.cache.lookupWith(parent, key, (id) => this.deps.images.get(id));
      if (image) {
        st.say(' ---> Using cache\n');
        st.say(` ---> ${shortId(image.id)}\n`);
        st.image = image;
        st.config = cloneConfig(image.config);
        return;
      }
    }
    const cfg = cloneConfig(st.config);
    opts.mutate?.(cfg);
    if (!this.req.noCache) {
      const image = await this.fromCacheSources(st, cfg, opts.createdBy);
      if (image) {
        this.deps.cache.put(parent, key, image.id, opts.createdBy);
        st.say(' ---> Using cache\n');
        st.say(` ---> ${shortId(image.id)}\n`);
        st.image = image;
        st.config = cloneConfig(image.config);
        return;
      }
    }
    if (opts.makeImage) {
      const image = await opts.makeImage(cfg);
      this.deps.cache.put(parent, key, image.id, opts.createdBy);
      st.image = image;
      st.config = cloneConfig(image.config);
      st.say(` ---> ${shortId(image.id)}\n`);
      return;
    }
    let layerSize = 0;
    const tar = opts.makeLayer ? await opts.makeLayer() : undefined;
    if (tar) {
      const layer = await addLayer(this.deps, cfg.rootfs.diff_ids, tar);
      cfg.rootfs.diff_ids = [...cfg.rootfs.diff_ids, layer.diffId];
      layerSize = layer.size;
    }
    const created = this.now().toISOString();
    cfg.created = created;
    cfg.history = [...(cfg.history ?? []), { created, created_by: opts.createdBy, ...(tar ? {} : { empty_layer: true }) }];
    const image = await commitImage(this.deps, { parent: st.image, config: cfg, layerSize });
    this.deps.cache.put(parent, key, image.id, opts.createdBy);
    st.image = image;
    st.config = cloneConfig(image.config);
    st.say(` ---> ${shortId(image.id)}\n`);
  }

  private cacheSourceImages: ImageRecord[] | undefined;

  /**
   * `--cache-from`: a source image whose history starts with the parent's (same entries, same
   * layers) and continues with this step's `created_by` gives the step's result: its layer (whose
   * snapshot is here, since the image is) on our config. Moby's classic builder does the same for
   * images that have no local parent chain (pulled or loaded).
   */
  private async fromCacheSources(st: StageState, cfg: ImageConfig, createdBy: string): Promise<ImageRecord | undefined> {
    if (!this.req.cacheFrom?.length) return undefined;
    this.cacheSourceImages ??= this.req.cacheFrom.flatMap((ref) => {
      try {
        return [this.deps.images.lookup(ref).image];
      } catch {
        return []; // a missing cache source is not an error (dockerd only warns)
      }
    });
    const baseHistory = st.config.history ?? [];
    const baseDiffs = st.config.rootfs.diff_ids;
    const n = baseHistory.length;
    for (const src of this.cacheSourceImages) {
      const h = src.config.history ?? [];
      if (h.length <= n || h[n].created_by !== createdBy) continue;
      if (!h.slice(0, n).every((e, i) => e.created_by === baseHistory[i].created_by && !!e.empty_layer === !!baseHistory[i].empty_layer)) continue;
      const srcDiffs = src.config.rootfs.diff_ids;
      if (h.slice(0, n).filter((e) => !e.empty_layer).length !== baseDiffs.length || !baseDiffs.every((d, i) => srcDiffs[i] === d)) continue;
      const out = cloneConfig(cfg);
      let layerSize = 0;
      if (!h[n].empty_layer) {
        const d = srcDiffs[baseDiffs.length];
        const snap = d ? await this.deps.snapshots.stat(chainId([...baseDiffs, d])) : undefined;
        if (!d || !snap) continue;
        out.rootfs.diff_ids = [...baseDiffs, d];
        layerSize = snap.size;
      }
      out.created = h[n].created ?? src.config.created;
      out.history = [...baseHistory, { ...h[n] }];
      return commitImage(this.deps, { parent: st.image, config: out, layerSize });
    }
    return undefined;
  }
}
