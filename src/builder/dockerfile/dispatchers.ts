// One dispatcher per Dockerfile instruction (moby's builder/dockerfile/dispatchers.go shape). Each
// expands its arguments, computes the step key, and commits through BuildRun.commitStep.
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import { readFile } from 'node:fs/promises';
import { InvalidParameter, NotFound } from '../../lib/errors.ts';
import { parseDuration } from '../../lib/units.ts';
import { shortId } from '../../lib/digest.ts';
import type { ImageRecord } from '../../store/images/types.ts';
import type { ImageConfig } from '../../types/oci.ts';
import { checksumEntries, historySource, layerTar, planCopy, type CopySource, type LayerEntry } from '../copy.ts';
import { DirView, LayerView, pathParts, resolveInView, type TreeEntry, type TreeView } from '../fs.ts';
import type { RunMount } from '../runner.ts';
import { extractArchive } from './archive.ts';
import { parseJsonArray, type Instruction } from './parse.ts';
import { parseNameVal, splitKeepingQuotes } from './shell.ts';
import { BuildRun, BuildStepError, DEFAULT_SHELL, PROXY_ARGS, runConfig, type StageState } from './state.ts';

export type Dispatcher = (b: BuildRun, st: StageState, ins: Instruction) => Promise<void>;

const nop = (text: string): string => `/bin/sh -c #(nop)  ${text}`;

function setEnv(cfg: ImageConfig, key: string, value: string): void {
  const rc = runConfig(cfg);
  const env = [...(rc.Env ?? [])];
  const i = env.findIndex((e) => e === key || e.startsWith(key + '='));
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  rc.Env = env;
}

/** Shell form → [shell..., text]; exec form as written. */
function commandOf(st: StageState, ins: Instruction): string[] {
  if (ins.json) return ins.json;
  return [...(st.config.config?.Shell ?? DEFAULT_SHELL), ins.args];
}

/** Metadata-only steps share this: mutate the config, no layer. */
async function metadataStep(b: BuildRun, st: StageState, ins: Instruction, text: string, mutate: (cfg: ImageConfig) => void): Promise<void> {
  await b.commitStep(st, { keyParts: [ins.keyword, text], createdBy: nop(text), mutate });
}

const env: Dispatcher = async (b, st, ins) => {
  const pairs = parseNameVal(ins.args, 'ENV', b.escape).map(([k, v]) => [b.word(st, k), b.word(st, v)] as const);
  const text = 'ENV ' + pairs.map(([k, v]) => `${k}=${v}`).join(' ');
  await metadataStep(b, st, ins, text, (cfg) => {
    for (const [k, v] of pairs) setEnv(cfg, k, v);
  });
};

const label: Dispatcher = async (b, st, ins) => {
  const pairs = parseNameVal(ins.args, 'LABEL', b.escape).map(([k, v]) => [b.word(st, k), b.word(st, v)] as const);
  const text = 'LABEL ' + pairs.map(([k, v]) => `${k}=${v}`).join(' ');
  await metadataStep(b, st, ins, text, (cfg) => {
    const rc = runConfig(cfg);
    rc.Labels = { ...(rc.Labels ?? {}) };
    for (const [k, v] of pairs) rc.Labels[k] = v;
  });
};

const maintainer: Dispatcher = async (b, st, ins) => {
  const who = ins.args.trim();
  await metadataStep(b, st, ins, `MAINTAINER ${who}`, (cfg) => {
    cfg.author = who;
  });
};

const workdir: Dispatcher = async (b, st, ins) => {
  const dir = b.word(st, ins.args.trim());
  if (dir === '') throw new InvalidParameter('WORKDIR requires exactly one argument');
  const abs = posix.resolve(st.config.config?.WorkingDir || '/', dir);
  // Docker makes the directory if the image lacks it (a layer with just that directory). Whether
  // it exists is fixed by the parent image, which is in the key: a cache hit does not look.
  await b.commitStep(st, {
    keyParts: ['WORKDIR', abs],
    createdBy: nop(`WORKDIR ${abs}`),
    mutate: (cfg) => {
      runConfig(cfg).WorkingDir = abs;
    },
    makeLayer: async () => {
      const view = await b.imageView(st.config);
      const resolved = await resolveInView(view, pathParts(abs));
      if ((await view.lstat(resolved))?.type === 'dir') return undefined;
      const entries: LayerEntry[] = [];
      for (let i = 1; i <= resolved.length; i++) {
        const parts = resolved.slice(0, i);
        const e = await view.lstat(parts);
        if (e?.type === 'dir') entries.push({ path: parts.join('/'), type: 'dir', mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, size: 0, existing: true });
        else entries.push({ path: parts.join('/'), type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: b.now(), size: 0 });
      }
      return layerTar(entries, b.req.sourceDateEpoch);
    },
  });
};

const user: Dispatcher = async (b, st, ins) => {
  const u = b.word(st, ins.args.trim());
  if (u === '') throw new InvalidParameter('USER requires exactly one argument');
  await metadataStep(b, st, ins, `USER ${u}`, (cfg) => {
    runConfig(cfg).User = u;
  });
};

const expose: Dispatcher = async (b, st, ins) => {
  const ports: string[] = [];
  for (const w of b.words(st, ins.args)) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw new InvalidParameter(`Invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (hi < lo || hi > 65535) throw new InvalidParameter(`Invalid range for port: ${w}`);
    for (let p = lo; p <= hi; p++) ports.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  if (ports.length === 0) throw new InvalidParameter('EXPOSE requires at least one argument');
  await metadataStep(b, st, ins, `EXPOSE ${ports.join(' ')}`, (cfg) => {
    const rc = runConfig(cfg);
    rc.ExposedPorts = { ...(rc.ExposedPorts ?? {}) };
    for (const p of ports) rc.ExposedPorts[p] = {};
  });
};

const volume: Dispatcher = async (b, st, ins) => {
  const vols = ins.json ?? b.words(st, ins.args);
  if (vols.length === 0 || vols.some((v) => v.trim() === '')) throw new InvalidParameter('VOLUME specified can not be an empty string');
  await metadataStep(b, st, ins, `VOLUME [${vols.join(' ')}]`, (cfg) => {
    const rc = runConfig(cfg);
    rc.Volumes = { ...(rc.Volumes ?? {}) };
    for (const v of vols) rc.Volumes[v] = {};
  });
};

const stopsignal: Dispatcher = async (b, st, ins) => {
  const sig = b.word(st, ins.args.trim());
  if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/.test(sig)) throw new InvalidParameter(`Invalid signal: ${sig}`);
  await metadataStep(b, st, ins, `STOPSIGNAL ${sig}`, (cfg) => {
    runConfig(cfg).StopSignal = sig;
  });
};

const cmd: Dispatcher = async (b, st, ins) => {
  const c = commandOf(st, ins);
  await metadataStep(b, st, ins, `CMD ${JSON.stringify(c)}`, (cfg) => {
    runConfig(cfg).Cmd = c;
  });
  st.cmdSet = true;
};

const entrypoint: Dispatcher = async (b, st, ins) => {
  const e = ins.args.trim() === '' ? [] : commandOf(st, ins);
  const resetCmd = !st.cmdSet;
  await metadataStep(b, st, ins, `ENTRYPOINT ${JSON.stringify(e)}`, (cfg) => {
    const rc = runConfig(cfg);
    rc.Entrypoint = e.length > 0 ? e : null;
    // A new ENTRYPOINT drops a CMD inherited from the base image (Docker's rule).
    if (resetCmd) rc.Cmd = null;
  });
};

const shell: Dispatcher = async (b, st, ins) => {
  if (!ins.json || ins.json.length === 0) throw new InvalidParameter('SHELL requires the arguments to be in JSON form');
  const sh = ins.json;
  await metadataStep(b, st, ins, `SHELL ${JSON.stringify(sh)}`, (cfg) => {
    runConfig(cfg).Shell = sh;
  });
};

const onbuild: Dispatcher = async (b, st, ins) => {
  const trigger = ins.args.trim();
  const kw = trigger.split(/\s+/)[0]?.toUpperCase() ?? '';
  if (kw === 'ONBUILD') throw new InvalidParameter("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (kw === 'FROM' || kw === 'MAINTAINER') throw new InvalidParameter(`${kw} isn't allowed as an ONBUILD trigger`);
  const text = trigger.replace(/^\S+/, kw);
  await metadataStep(b, st, ins, `ONBUILD ${text}`, (cfg) => {
    const rc = runConfig(cfg);
    rc.OnBuild = [...(rc.OnBuild ?? []), text];
  });
};

/** Go durations for HEALTHCHECK flags, in nanoseconds. */
function durationNs(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const ms = parseDuration(v);
  if (ms !== 0 && ms < 1) throw new InvalidParameter(`Interval "${name}" cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}

const healthcheck: Dispatcher = async (b, st, ins) => {
  b.checkFlags(ins, ['interval', 'timeout', 'start-period', 'start-interval', 'retries']);
  const args = ins.args.trim();
  const kind = args.split(/\s+/)[0]?.toUpperCase();
  let hc: NonNullable<NonNullable<ImageConfig['config']>['Healthcheck']>;
  if (kind === 'NONE') {
    if (args.split(/\s+/).length > 1) throw new InvalidParameter('HEALTHCHECK NONE takes no arguments');
    hc = { Test: ['NONE'] };
  } else if (kind === 'CMD') {
    const rest = args.replace(/^\S+\s*/, '');
    const json = parseJsonArray(rest);
    const test = json ? ['CMD', ...json] : ['CMD-SHELL', rest];
    hc = { Test: test };
    const interval = durationNs(b.flag(ins, 'interval'), 'interval');
    const timeout = durationNs(b.flag(ins, 'timeout'), 'timeout');
    const startPeriod = durationNs(b.flag(ins, 'start-period'), 'start-period');
    const retries = b.flag(ins, 'retries');
    if (interval !== undefined) hc.Interval = interval;
    if (timeout !== undefined) hc.Timeout = timeout;
    if (startPeriod !== undefined) hc.StartPeriod = startPeriod;
    if (retries !== undefined) {
      const n = Number(retries);
      if (!Number.isInteger(n) || n < 1) throw new InvalidParameter('--retries must be at least 1');
      hc.Retries = n;
    }
  } else throw new InvalidParameter(`Unknown type "${kind ?? ''}" in HEALTHCHECK (try CMD)`);
  await metadataStep(b, st, ins, `HEALTHCHECK ${JSON.stringify(hc)}`, (cfg) => {
    runConfig(cfg).Healthcheck = hc;
  });
};

const arg: Dispatcher = async (b, st, ins) => {
  for (const [name, def] of parseArgDecls(ins.args, b.escape)) {
    const given = b.req.buildArgs[name];
    let value: string | undefined;
    if (given !== undefined && given !== null) {
      value = given;
      b.consumedArgs.add(name);
    } else if (def !== undefined) value = b.word(st, def);
    else if (b.metaArgs.has(name)) value = b.metaArgs.get(name);
    st.args.set(name, value);
    // ARG is a step of its own in the classic builder, with the value in the cache key.
    const text = value !== undefined ? `ARG ${name}=${value}` : `ARG ${name}`;
    await metadataStep(b, st, ins, text, () => undefined);
  }
};

/** `ARG a=1 b` → [["a","1"], ["b", undefined]]. */
export function parseArgDecls(args: string, escape: string): Array<[string, string | undefined]> {
  const words = args.trim() === '' ? [] : parseNameValLoose(args, escape);
  if (words.length === 0) throw new InvalidParameter('ARG requires exactly one argument');
  return words;
}

function parseNameValLoose(args: string, escape: string): Array<[string, string | undefined]> {
  return splitKeepingQuotes(args.trim(), escape).map((w): [string, string | undefined] => {
    const i = w.indexOf('=');
    if (i === 0) throw new InvalidParameter('ARG names can not be blank');
    return i < 0 ? [w, undefined] : [w.slice(0, i), w.slice(i + 1)];
  });
}

/** Build-arg values RUN sees as environment: declared ARGs with a value and not shadowed by ENV, plus proxies. */
function runArgs(b: BuildRun, st: StageState): { env: string[]; keyed: string[] } {
  const envKeys = new Set((st.config.config?.Env ?? []).map((e) => e.split('=')[0]));
  const keyed: string[] = [];
  for (const [k, v] of st.args) if (v !== undefined && !envKeys.has(k)) keyed.push(`${k}=${v}`);
  const env = [...keyed];
  for (const [k, v] of Object.entries(b.req.buildArgs)) {
    if (PROXY_ARGS.has(k) && v !== null && !st.args.has(k)) {
      env.push(`${k}=${v}`);
      b.consumedArgs.add(k);
    }
  }
  keyed.sort();
  return { env, keyed };
}

/** One `--mount=` flag of RUN: `type=cache|bind|tmpfs,target=…[,source=…][,from=…][,id=…][,rw]`. */
interface MountFlag {
  type: 'cache' | 'bind' | 'tmpfs';
  target: string;
  source: string;
  from?: string;
  id: string;
  readOnly: boolean;
}

function parseMountFlag(b: BuildRun, st: StageState, value: string): MountFlag {
  const kv = new Map<string, string>();
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    const k = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    kv.set(k, i < 0 ? 'true' : b.word(st, part.slice(i + 1)));
  }
  const type = (kv.get('type') ?? 'bind') as MountFlag['type'];
  if (!['cache', 'bind', 'tmpfs'].includes(type)) throw new InvalidParameter(`unsupported mount type ${type}: berth supports cache, bind and tmpfs`);
  const target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
  if (!target) throw new InvalidParameter(`mount ${value}: target is required`);
  const abs = posix.resolve(st.config.config?.WorkingDir || '/', target);
  const rw = kv.get('rw') ?? kv.get('readwrite');
  const ro = kv.get('ro') ?? kv.get('readonly');
  const readOnly = type === 'bind' ? rw !== 'true' : ro === 'true';
  return { type, target: abs, source: kv.get('source') ?? kv.get('src') ?? '', from: kv.get('from'), id: kv.get('id') ?? abs, readOnly };
}

/** The cache-key part of a mount: its spec, and what a bind shows (the stage image or the context checksum). */
async function mountKey(b: BuildRun, m: MountFlag): Promise<string> {
  if (m.type === 'bind') {
    if (m.from !== undefined) return JSON.stringify([m, fromImage(b, m.from).id]);
    const entries = await planCopy({ sources: [{ path: m.source || '.' }], dest: '/m/', from: b.context, into: new LayerView([]), now: new Date(0), keyword: 'RUN --mount' });
    return JSON.stringify([m, await checksumEntries(entries)]);
  }
  return JSON.stringify(m);
}

const run: Dispatcher = async (b, st, ins) => {
  b.checkFlags(ins, ['network', 'mount', 'security']);
  const sh = st.config.config?.Shell ?? DEFAULT_SHELL;
  const heredoc = ins.heredocs[0];
  let command: string[];
  if (heredoc && /^<<-?["']?\w+["']?$/.test(ins.args.trim())) command = [...sh, heredoc.content];
  else if (heredoc) command = [...sh, [ins.args, ...ins.heredocs.map((h) => h.content + h.name)].join('\n')];
  else command = commandOf(st, ins);
  const network = b.flag(ins, 'network');
  if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw new InvalidParameter(`unsupported network mode: ${network}`);
  const mounts = ins.flags.filter((f) => f.name === 'mount').map((f) => parseMountFlag(b, st, f.value ?? ''));
  const mountKeys: string[] = [];
  for (const m of mounts) mountKeys.push(await mountKey(b, m));
  const { env: argEnv, keyed } = runArgs(b, st);
  const prefix = keyed.length > 0 ? `|${keyed.length} ${keyed.join(' ')} ` : '';
  let ctrId: string | undefined;
  let releaseMounts: Array<() => Promise<void>> = [];
  const createdBy = prefix + command.join(' ');
  try {
    await b.commitStep(st, {
      keyParts: ['RUN', JSON.stringify(command), ...keyed, network ?? '', ...mountKeys],
      createdBy,
      makeImage: async (cfg) => {
        const parent = st.image;
        if (!parent) throw new BuildStepError(`The command '${command.join(' ')}' cannot run: the image has no filesystem (FROM scratch)`, 1);
        const rc = cfg.config ?? {};
        const hostConfig = { ...b.req.hostConfig };
        if (network !== undefined && network !== 'default') hostConfig.NetworkMode = network;
        const { runMounts, releases } = await prepareMounts(b, mounts);
        releaseMounts = releases;
        const result = await b.deps.runner.run(
          { imageId: parent.id, cmd: command, env: [...(rc.Env ?? []), ...argEnv], user: rc.User ?? '', workdir: rc.WorkingDir ?? '', hostConfig, mounts: runMounts },
          {
            onCreated: (id) => {
              ctrId = id;
              st.say(` ---> Running in ${shortId(id)}\n`);
            },
            onOutput: (chunk) => st.say(chunk.toString('utf8')),
            signal: b.req.signal,
          },
        );
        ctrId = result.id;
        if (result.exitCode !== 0) {
          throw new BuildStepError(`The command '${command.join(' ')}' returned a non-zero code: ${result.exitCode}`, result.exitCode);
        }
        const image = await b.deps.runner.commit(result.id, { parent, config: rc, createdBy, author: cfg.author, sourceDateEpoch: b.req.sourceDateEpoch, now: b.now() });
        ctrId = undefined;
        await b.deps.runner.remove(result.id);
        st.say(`Removing intermediate container ${shortId(result.id)}\n`);
        return image;
      },
    });
  } finally {
    // A failed step leaves nothing behind either (quietly: the error is what the user sees).
    if (ctrId !== undefined) await b.deps.runner.remove(ctrId);
    for (const release of releaseMounts) await release();
  }
};

/** Host sources for RUN's mounts: cache directories, context paths, stage/image filesystems. */
async function prepareMounts(b: BuildRun, mounts: readonly MountFlag[]): Promise<{ runMounts: RunMount[]; releases: Array<() => Promise<void>> }> {
  const runMounts: RunMount[] = [];
  const releases: Array<() => Promise<void>> = [];
  try {
    for (const m of mounts) {
      if (m.type === 'tmpfs') runMounts.push({ type: 'tmpfs', target: m.target, readOnly: false });
      else if (m.type === 'cache') runMounts.push({ type: 'bind', source: await b.deps.runner.cacheDir(m.id), target: m.target, readOnly: m.readOnly });
      else {
        let root: string;
        let view: TreeView;
        if (m.from !== undefined) {
          const img = fromImage(b, m.from);
          const mounted = await b.deps.runner.mountImage(img);
          releases.push(mounted.release);
          root = mounted.path;
          view = new DirView(root);
        } else {
          root = await b.contextDir();
          view = b.context;
        }
        const parts = await resolveInView(view, pathParts(m.source || '.'));
        if (!(await view.lstat(parts)) && parts.length > 0) throw new NotFound(`mount source ${m.source} not found${m.from ? ` in ${m.from}` : ' in the build context'}`);
        runMounts.push({ type: 'bind', source: parts.length > 0 ? join(root, ...parts) : root, target: m.target, readOnly: m.readOnly });
      }
    }
  } catch (err) {
    for (const release of releases) await release();
    throw err;
  }
  return { runMounts, releases };
}

/** `--chown=user:group` against the image's /etc/passwd and /etc/group (numbers pass through). */
async function resolveChown(view: TreeView, spec: string): Promise<{ uid: number; gid: number }> {
  const [u, g] = spec.split(':');
  const readDb = async (file: string): Promise<string[][]> => {
    const parts = await resolveInView(view, ['etc', file]);
    const e = await view.lstat(parts);
    if (e?.type !== 'file') return [];
    return (await readFile(e.hostPath, 'utf8')).split('\n').map((l) => l.split(':'));
  };
  const lookup = async (name: string, file: string, idCol: number): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    const row = (await readDb(file)).find((r) => r[0] === name);
    if (!row) throw new InvalidParameter(`unable to convert uid/gid chown string to host mapping: no such ${file === 'passwd' ? 'user' : 'group'}: ${name}`);
    return Number(row[idCol]);
  };
  const uid = await lookup(u, 'passwd', 2);
  let gid: number;
  if (g !== undefined && g !== '') gid = await lookup(g, 'group', 2);
  else if (/^\d+$/.test(u)) gid = uid;
  else gid = Number((await readDb('passwd')).find((r) => r[0] === u)?.[3] ?? uid);
  return { uid, gid };
}

/** COPY --from: a previous stage (by name or index) or an image. */
function fromImage(b: BuildRun, from: string): ImageRecord {
  const key = from.toLowerCase();
  if (b.stageImages.has(key)) {
    const img = b.stageImages.get(key);
    if (!img) throw new InvalidParameter(`stage ${from} has no filesystem to copy from`);
    return img;
  }
  try {
    return b.deps.images.lookup(from).image;
  } catch (err) {
    if (err instanceof NotFound) throw new NotFound(`invalid from flag value ${from}: pull access denied for ${from}, repository does not exist or may require 'docker login'`);
    throw err;
  }
}

function copyDispatcher(keyword: 'COPY' | 'ADD'): Dispatcher {
  return async (b, st, ins) => {
    // --link is accepted: every copy here is an independent layer already.
    b.checkFlags(ins, keyword === 'COPY' ? ['from', 'chown', 'chmod', 'link'] : ['chown', 'chmod', 'link', 'checksum']);
    const words = ins.json ?? b.words(st, ins.args);
    const heredocNames = new Map(ins.heredocs.map((h) => [h.name, h]));
    if (words.length < 2) throw new InvalidParameter(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
    const destRaw = words[words.length - 1];
    const workdir = st.config.config?.WorkingDir || '/';
    const trailing = destRaw.endsWith('/') || destRaw === '.' || destRaw.endsWith('/.');
    let dest = posix.resolve(workdir, destRaw);
    if (trailing && !dest.endsWith('/')) dest += '/';
    const sources: CopySource[] = [];
    const fetched: string[] = [];
    for (const w of words.slice(0, -1)) {
      const hd = /^<<-?["']?(\w+)["']?$/.exec(w);
      if (hd && heredocNames.has(hd[1])) {
        const h = heredocNames.get(hd[1])!;
        const content = h.quoted ? h.content : b.word(st, h.content.replace(/"/g, '\\"').replace(/^/, '"') + '"');
        sources.push({ path: w, inline: { data: Buffer.from(content), name: h.name } });
        continue;
      }
      if (keyword === 'ADD' && /^https?:\/\//.test(w)) {
        if (!b.deps.fetchUrl) throw new InvalidParameter('ADD from a URL is not available');
        const got = await b.deps.fetchUrl(w);
        const want = b.flag(ins, 'checksum');
        if (want !== undefined) {
          const have = 'sha256:' + createHash('sha256').update(got.data).digest('hex');
          if (have !== want) throw new BuildStepError(`ADD ${w}: checksum mismatch: expected ${want}, got ${have}`);
        }
        const name = posix.basename(new URL(w).pathname) || 'index.html';
        // Docker's rules for downloads: mode 0600, the server's Last-Modified as mtime.
        sources.push({ path: w, inline: { data: got.data, name, mode: 0o600, ...(got.lastModified ? { mtime: got.lastModified } : {}) } });
        fetched.push(w);
        continue;
      }
      sources.push({ path: w });
    }
    const fromFlag = keyword === 'COPY' ? b.flag(ins, 'from') : undefined;
    const fromImg = fromFlag !== undefined ? fromImage(b, b.word(st, fromFlag)) : undefined;
    const from = fromImg ? await b.imageView(fromImg.config) : b.context;
    const chownFlag = b.flag(ins, 'chown');
    const chownSpec = chownFlag ? b.word(st, chownFlag) : undefined;
    const chmodFlag = b.flag(ins, 'chmod');
    let chmod: number | undefined;
    if (chmodFlag !== undefined) {
      if (!/^[0-7]{3,4}$/.test(chmodFlag)) throw new InvalidParameter(`invalid chmod parameter: ${chmodFlag}`);
      chmod = parseInt(chmodFlag, 8);
    }
    // ADD reads local archives to decide whether to unpack them: that needs the context's files.
    const fromContextFiles = fromImg === undefined && sources.some((s) => !s.inline);
    if (keyword === 'ADD' && fromContextFiles) await b.contextDir();
    const plan = (into: TreeView, owner: { uid: number; gid: number } | undefined) =>
      planCopy({ sources, dest, from, into, owner, chmod, now: b.now(), keyword, extractArchives: keyword === 'ADD' ? (e: TreeEntry) => extractArchive(e, owner) : undefined });
    // The cache key needs the sources only: the destination side is fixed by the parent image,
    // which is part of the key already (so a hit touches no layer of the image). A stage or image
    // source is fixed by its ID: its files are listed, not read.
    const keyEntries = await plan(EMPTY_VIEW, undefined);
    const sum = await checksumEntries(keyEntries, { content: fromImg === undefined });
    const createdBy = nop(`${keyword} ${fromImg ? `--from=${fromImg.id} ` : ''}${historySource(keyEntries, sum, sources.length)} in ${dest} `);
    await b.commitStep(st, {
      keyParts: [keyword, fromImg?.id ?? 'context', sum, dest, chownSpec ?? '', String(chmod ?? ''), ...fetched],
      createdBy,
      makeLayer: async () => {
        if (fromContextFiles) await b.contextDir();
        const into = await b.imageView(st.config);
        const owner = chownSpec !== undefined ? await resolveChown(into, chownSpec) : undefined;
        return layerTar(await plan(into, owner), b.req.sourceDateEpoch);
      },
    });
  };
}

/** An image with no layers: what the cache key of a copy is planned against. */
const EMPTY_VIEW = new LayerView([]);

export const DISPATCHERS: Record<string, Dispatcher> = {
  ADD: copyDispatcher('ADD'),
  ARG: arg,
  CMD: cmd,
  COPY: copyDispatcher('COPY'),
  ENTRYPOINT: entrypoint,
  ENV: env,
  EXPOSE: expose,
  HEALTHCHECK: healthcheck,
  LABEL: label,
  MAINTAINER: maintainer,
  ONBUILD: onbuild,
  RUN: run,
  SHELL: shell,
  STOPSIGNAL: stopsignal,
  USER: user,
  VOLUME: volume,
  WORKDIR: workdir,
};
