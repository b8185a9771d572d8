// The build interpreter: picks the stages the target needs, runs each instruction through its
// dispatcher with `Step i/n` progress as the classic builder prints it, and returns the image.
import { InvalidParameter, NotFound } from '../../lib/errors.ts';
import { shortId } from '../../lib/digest.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageConfig } from '../../types/oci.ts';
import { DISPATCHERS, parseArgDecls } from './dispatchers.ts';
import { parseDockerfile, type Instruction, type ParsedDockerfile, type Stage } from './parse.ts';
import { processWord } from './shell.ts';
import { BuildRun, BuildStepError, PROXY_ARGS, cloneConfig, type BuildProgress, type BuildRequest, type BuilderDeps, type StageState } from './state.ts';

export { BuildStepError } from './state.ts';
export type { BuildProgress, BuildRequest, BuilderDeps } from './state.ts';

export interface BuildResult {
  imageId: string;
  /** Build arguments no ARG consumed (the CLI shows a warning). */
  unusedArgs: string[];
}

/** The earlier stages a stage uses: FROM <stage>, COPY --from=<stage>, RUN --mount=…,from=<stage>. */
function stageDeps(df: ParsedDockerfile, s: Stage): Stage[] {
  const byName = new Map<string, Stage>();
  for (const x of df.stages) if (x.name) byName.set(x.name, x);
  const ref = (v: string | null | undefined): Stage | undefined => {
    if (!v) return undefined;
    const found = /^\d+$/.test(v) ? df.stages[Number(v)] : byName.get(v.toLowerCase());
    return found && found.index < s.index ? found : undefined;
  };
  const out = new Set<Stage>();
  const base = ref(s.from.args.split(/\s+/)[0]);
  if (base) out.add(base);
  for (const ins of s.instructions) {
    for (const f of ins.flags) {
      const from = f.name === 'from' ? f.value : f.name === 'mount' ? /(?:^|,)from=([^,]+)/.exec(f.value ?? '')?.[1] : undefined;
      const dep = ref(from);
      if (dep) out.add(dep);
    }
  }
  return [...out];
}

/** Stages the target needs, in file order (the others are skipped). */
function neededStages(df: ParsedDockerfile, target: Stage): Stage[] {
  const need = new Set<Stage>();
  const visit = (s: Stage): void => {
    if (need.has(s)) return;
    need.add(s);
    for (const d of stageDeps(df, s)) visit(d);
  };
  visit(target);
  return df.stages.filter((s) => need.has(s));
}

/** Independent stages built at once (the machine has 2 cores; RUN steps dominate). */
const STAGE_CONCURRENCY = 2;

class Semaphore {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Output of concurrently running stages, shown in stage order: the first unfinished stage streams live. */
class OrderedOutput {
  private current = 0;
  private readonly buffers: string[][];
  private readonly finished: boolean[];
  private readonly sink: (text: string) => void;
  constructor(n: number, sink: (text: string) => void) {
    this.buffers = Array.from({ length: n }, () => []);
    this.finished = new Array<boolean>(n).fill(false);
    this.sink = sink;
  }
  write(i: number, text: string): void {
    if (i === this.current) this.sink(text);
    else this.buffers[i].push(text);
  }
  done(i: number): void {
    this.finished[i] = true;
    while (this.current < this.finished.length && this.finished[this.current]) {
      this.current++;
      if (this.current < this.buffers.length) this.flush(this.current);
    }
  }
  private flush(i: number): void {
    for (const t of this.buffers[i].splice(0)) this.sink(t);
  }
  flushAll(): void {
    for (let i = this.current; i < this.buffers.length; i++) this.flush(i);
  }
}

function emptyConfig(platform: BuildRequest['platform']): ImageConfig {
  return { architecture: platform?.architecture ?? 'amd64', os: platform?.os ?? 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

/** The `LABEL` step Docker appends for `--label` options. */
function labelInstruction(labels: Record<string, string>): Instruction {
  const args = Object.entries(labels)
    .map(([k, v]) => `${JSON.stringify(k)}='${v.replace(/'/g, `'"'"'`)}'`)
    .join(' ');
  return { keyword: 'LABEL', original: `LABEL ${args}`, line: 0, flags: [], args, heredocs: [] };
}

/** Run a Dockerfile (its text) against a context directory. */
export async function runBuild(deps: BuilderDeps, dockerfileText: string, req: BuildRequest, progress: BuildProgress): Promise<BuildResult> {
  const df = parseDockerfile(dockerfileText);
  const b = new BuildRun(deps, req, progress, df.escape);

  let target = df.stages[df.stages.length - 1];
  if (req.target) {
    const t = df.stages.find((s) => s.name === req.target!.toLowerCase());
    if (!t) throw new InvalidParameter(`failed to reach build target ${req.target} in Dockerfile`);
    target = t;
  }
  const stages = neededStages(df, target);
  const extra = Object.keys(req.labels).length > 0 ? [labelInstruction(req.labels)] : [];
  const sizeOf = (st: Stage): number => 1 + st.instructions.length + (st === target ? extra.length : 0);
  const total = df.metaArgs.length + stages.reduce((n, s) => n + sizeOf(s), 0);
  let step = 0;

  // BuildKit's automatic platform ARGs, which many Dockerfiles use (`FROM --platform=$BUILDPLATFORM`,
  // `ARG TARGETARCH`): global, and in a stage once it declares them.
  const os = req.platform?.os ?? 'linux';
  const arch = req.platform?.architecture ?? 'amd64';
  for (const prefix of ['TARGET', 'BUILD']) {
    b.metaArgs.set(`${prefix}PLATFORM`, `${os}/${arch}`);
    b.metaArgs.set(`${prefix}OS`, os);
    b.metaArgs.set(`${prefix}ARCH`, arch);
    b.metaArgs.set(`${prefix}VARIANT`, '');
  }
  // Global ARGs: visible to FROM lines, and to stages that re-declare them.
  for (const ins of df.metaArgs) {
    step++;
    b.say(`Step ${step}/${total} : ${ins.original}\n`);
    for (const [name, def] of parseArgDecls(ins.args, df.escape)) {
      const given = req.buildArgs[name];
      if (given !== undefined && given !== null) {
        b.metaArgs.set(name, given);
        b.consumedArgs.add(name);
      } else b.metaArgs.set(name, def === undefined ? undefined : processWord(def, b.metaVars(), df.escape));
    }
  }

  // Stages run as soon as the stages they use are done, up to STAGE_CONCURRENCY at once; their
  // output is shown in file order (a later stage's is held back until the earlier ones finish).
  const out = new OrderedOutput(stages.length, (text) => b.say(text));
  const firstStep = new Map<Stage, number>();
  for (const s of stages) {
    firstStep.set(s, step + 1);
    step += sizeOf(s);
  }
  const slots = new Semaphore(STAGE_CONCURRENCY);
  const finished = new Map<Stage, Promise<StageState>>();
  for (const [i, stage] of stages.entries()) {
    const deps = stageDeps(df, stage).filter((d) => finished.has(d));
    finished.set(
      stage,
      (async () => {
        await Promise.all(deps.map((d) => finished.get(d)));
        return slots.run(async () => {
          const say = (text: string): void => out.write(i, text);
          let n = firstStep.get(stage)!;
          say(`Step ${n++}/${total} : ${stage.from.original}\n`);
          const st = await fromStage(b, stage, say);
          for (const ins of [...stage.instructions, ...(stage === target ? extra : [])]) {
            say(`Step ${n++}/${total} : ${ins.original}\n`);
            const dispatch = DISPATCHERS[ins.keyword];
            if (!dispatch) throw new InvalidParameter(`unknown instruction: ${ins.keyword}`);
            await dispatch(b, st, ins);
          }
          b.stageImages.set(String(stage.index), st.image);
          if (stage.name) b.stageImages.set(stage.name, st.image);
          return st;
        });
      })().finally(() => out.done(i)),
    );
  }
  const results = await Promise.allSettled(stages.map((s) => finished.get(s)!));
  out.flushAll();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const last = (results[results.length - 1] as PromiseFulfilledResult<StageState>).value;
  if (!last.image) throw new InvalidParameter('No image was generated. Is your Dockerfile empty?');

  const unusedArgs = Object.keys(req.buildArgs).filter((k) => !b.consumedArgs.has(k) && !PROXY_ARGS.has(k) && k !== 'SOURCE_DATE_EPOCH');
  return { imageId: last.image.id, unusedArgs };
}

/** FROM: a previous stage, scratch, or a local image; then the base image's ONBUILD triggers. */
async function fromStage(b: BuildRun, stage: Stage, say: (text: string) => void): Promise<StageState> {
  b.checkFlags(stage.from, ['platform']);
  const baseName = processWord(stage.from.args.split(/\s+/)[0], b.metaVars(), b.escape);
  let image: ImageRecord | undefined;
  let config: ImageConfig;
  const stageRef = b.stageImages.has(baseName.toLowerCase()) ? baseName.toLowerCase() : undefined;
  if (stageRef !== undefined) {
    image = b.stageImages.get(stageRef);
    config = image ? cloneConfig(image.config) : emptyConfig(b.req.platform);
  } else if (baseName.toLowerCase() === 'scratch') {
    config = emptyConfig(b.req.platform);
  } else {
    image = await baseImage(b, baseName);
    config = cloneConfig(image.config);
  }
  if (image) say(` ---> ${shortId(image.id)}\n`);
  const st: StageState = { stage, image, config, args: new Map(), cmdSet: false, say };
  const triggers = config.config?.OnBuild ?? [];
  if (triggers.length > 0) {
    say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
    if (st.config.config) st.config.config.OnBuild = null;
    for (const trigger of triggers) {
      const parsed = parseDockerfile(`FROM scratch\n${trigger}\n`);
      for (const ins of parsed.stages[0].instructions) {
        const dispatch = DISPATCHERS[ins.keyword];
        if (!dispatch) throw new BuildStepError(`unknown ONBUILD instruction: ${ins.keyword}`);
        await dispatch(b, st, ins);
      }
    }
  }
  return st;
}

/** A FROM image: local, else pulled (always pulled with `--pull`, falling back to a local copy only if the pull fails for want of a registry). */
async function baseImage(b: BuildRun, name: string): Promise<ImageRecord> {
  let local: ImageRecord | undefined;
  try {
    local = b.deps.images.lookup(name).image;
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
  }
  if (local && !b.req.pull) return local;
  if (!b.deps.pullImage) {
    if (local) return local;
    throw new NotFound(`pull access denied for ${name}, repository does not exist or may require 'docker login': no registry configured`);
  }
  return b.deps.pullImage(name);
}
