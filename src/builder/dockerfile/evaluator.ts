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

/** Stages the target depends on (FROM <stage>, COPY --from=<stage>), in file order. */
function neededStages(df: ParsedDockerfile, target: Stage): Stage[] {
  const byName = new Map<string, Stage>();
  for (const s of df.stages) if (s.name) byName.set(s.name, s);
  const ref = (v: string | null | undefined, before: number): Stage | undefined => {
    if (!v) return undefined;
    const s = /^\d+$/.test(v) ? df.stages[Number(v)] : byName.get(v.toLowerCase());
    return s && s.index < before ? s : undefined;
  };
  const need = new Set<Stage>();
  const visit = (s: Stage): void => {
    if (need.has(s)) return;
    need.add(s);
    const base = ref(s.from.args.split(/\s+/)[0], s.index);
    if (base) visit(base);
    for (const ins of s.instructions) {
      for (const f of ins.flags) {
        // COPY --from=<stage>, RUN --mount=type=bind,from=<stage>
        const from = f.name === 'from' ? f.value : f.name === 'mount' ? /(?:^|,)from=([^,]+)/.exec(f.value ?? '')?.[1] : undefined;
        const dep = ref(from, s.index);
        if (dep) visit(dep);
      }
    }
  };
  visit(target);
  return df.stages.filter((s) => need.has(s));
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
  const total = df.metaArgs.length + stages.reduce((n, s) => n + 1 + s.instructions.length, 0) + extra.length;
  let step = 0;
  const announce = (ins: Instruction): void => {
    step++;
    b.say(`Step ${step}/${total} : ${ins.original}\n`);
  };

  // Global ARGs: visible to FROM lines, and to stages that re-declare them.
  for (const ins of df.metaArgs) {
    announce(ins);
    for (const [name, def] of parseArgDecls(ins.args, df.escape)) {
      const given = req.buildArgs[name];
      if (given !== undefined && given !== null) {
        b.metaArgs.set(name, given);
        b.consumedArgs.add(name);
      } else b.metaArgs.set(name, def === undefined ? undefined : processWord(def, b.metaVars(), df.escape));
    }
  }

  let last: StageState | undefined;
  for (const stage of stages) {
    announce(stage.from);
    const st = await fromStage(b, stage);
    for (const ins of [...stage.instructions, ...(stage === target ? extra : [])]) {
      announce(ins);
      const dispatch = DISPATCHERS[ins.keyword];
      if (!dispatch) throw new InvalidParameter(`unknown instruction: ${ins.keyword}`);
      await dispatch(b, st, ins);
    }
    const result = st.image;
    b.stageImages.set(String(stage.index), result);
    if (stage.name) b.stageImages.set(stage.name, result);
    last = st;
  }
  if (!last?.image) throw new InvalidParameter('No image was generated. Is your Dockerfile empty?');

  const unusedArgs = Object.keys(req.buildArgs).filter((k) => !b.consumedArgs.has(k) && !PROXY_ARGS.has(k) && k !== 'SOURCE_DATE_EPOCH');
  return { imageId: last.image.id, unusedArgs };
}

/** FROM: a previous stage, scratch, or a local image; then the base image's ONBUILD triggers. */
async function fromStage(b: BuildRun, stage: Stage): Promise<StageState> {
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
  if (image) b.say(` ---> ${shortId(image.id)}\n`);
  const st: StageState = { stage, image, config, args: new Map(), cmdSet: false };
  const triggers = config.config?.OnBuild ?? [];
  if (triggers.length > 0) {
    b.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
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
