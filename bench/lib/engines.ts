// The engines under test: berthd, dockerd (+ its own containerd), podman. Each runs on a private
// data root, exec root and socket under a temp dir, and is stopped and cleaned up by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { api, postFile } from './http.ts';
import { findProcs, logStep, onCleanup, removeCgroupTree, run, sh, sleep, unmountUnder, which, type ProcInfo } from './util.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = process.execPath;
/** The built berth tree to bench (bin/, dist/): this repository unless --berth-tree names another. */
export const berthTree = { root: ROOT, note: '' };
export const berthdBin = (): string => join(berthTree.root, 'bin/berthd');
export const berthBin = (): string => join(berthTree.root, 'bin/berth');

export interface Engine {
  name: string;
  version: string;
  /** The Docker API socket (berthd, dockerd); undefined for podman. */
  socket?: string;
  /** Environment for the docker CLI / berth CLI talking to this engine. */
  env: NodeJS.ProcessEnv;
  /** The processes that make up the engine's resident footprint (daemons, monitors, shims). */
  footprint(): Array<ProcInfo & { role: string }>;
  /** Remove containers, stop the daemons, unmount, remove temp dirs and cgroups. Idempotent. */
  stop(): Promise<void>;
}

function bg(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
  } finally {
    closeSync(fd);
  }
}

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

async function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(p)) return true;
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    p.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

/** SIGTERM, then SIGKILL after graceMs. */
async function terminate(p: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!p || !alive(p)) return;
  p.kill('SIGTERM');
  if (await waitExit(p, graceMs)) return;
  p.kill('SIGKILL');
  await waitExit(p, 5_000);
}

function killAll(procs: ProcInfo[]): void {
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

async function waitPing(socket: string, p: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(p)) throw new Error(`exited early (code ${p.exitCode}):\n${tail(logFile)}`);
    try {
      const r = await api(socket, 'GET', '/_ping', { timeoutMs: 2_000 });
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`no answer on ${socket} within ${timeoutMs} ms:\n${tail(logFile)}`);
}

function tail(file: string, n = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Remove every container through the API (force). */
async function removeAllContainers(socket: string): Promise<number> {
  const r = await api(socket, 'GET', '/containers/json?all=1', { timeoutMs: 10_000 });
  if (r.status !== 200) return 0;
  const list = JSON.parse(r.body) as Array<{ Id: string }>;
  for (const c of list) await api(socket, 'DELETE', `/containers/${c.Id}?force=1`, { timeoutMs: 30_000 }).catch(() => undefined);
  return list.length;
}

function cgroupName(base: string): string {
  const taken = (n: string) => readdirSync('/sys/fs/cgroup').some((c) => existsSync(join('/sys/fs/cgroup', c, n)));
  return taken(base) ? `${base}-${randomBytes(3).toString('hex')}` : base;
}

// ---------------------------------------------------------------------------------------------
// berthd

/**
 * Network names of a bench berthd (issue 6): its own bridge, subnet and nft table, so it never
 * touches a berthd installed on the machine (berth0, table berth); --cleanup removes them.
 */
function benchNetArgs(): string[] {
  const routes = sh('ip', ['-4', 'route', 'show', 'table', 'all']).out;
  let r = 0;
  do r = 64 + Math.floor(Math.random() * 190);
  while (routes.includes(`10.${r}.`));
  const p = `bb${randomBytes(2).toString('hex')}`;
  return ['-b', `${p}0`, '--bip', `10.${r}.0.1/24`, '--default-address-pool', `base=10.${r}.0.0/16,size=24`, '--nft-table', p, '--iface-prefix', p, '--no-egress'];
}

export async function startBerthd(busyboxTar: string, extraArgs: readonly string[] = []): Promise<Engine> {
  if (!extraArgs.includes('-b')) extraArgs = [...extraArgs, ...benchNetArgs()];
  const dir = mkdtempSync('/tmp/berth-bench-');
  const data = join(dir, 'data');
  const exec = join(dir, 'run');
  const socket = join(exec, 'berth.sock');
  const cg = cgroupName(`berth-bench-${randomBytes(3).toString('hex')}`);
  const logFile = join(dir, 'berthd.log');
  mkdirSync(join(dir, 'docker-config'));
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, BERTH_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
  const proc = bg(berthdBin(), ['--data-root', data, '--exec-root', exec, '-H', `unix://${socket}`, '--cgroup-parent', cg, '--log-level', 'warn', ...extraArgs], logFile);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (alive(proc)) {
      try {
        const n = await removeAllContainers(socket);
        if (n) logStep(`berthd: removed ${n} leftover containers`);
      } catch (err) {
        logStep(`berthd: container cleanup via API failed: ${(err as Error).message}`);
      }
    }
    await terminate(proc);
    killAll(findProcs((p) => p.cmdline.startsWith('/usr/bin/conmon') && p.cmdline.includes(exec)));
    await sleep(100);
    // Networks outlive a SIGTERM (issue 6): the uninstall path removes its bridges and nft table.
    sh(berthdBin(), ['--cleanup', '--data-root', data, '--exec-root', exec, ...extraArgs]);
    const m = unmountUnder(dir);
    if (m.length) logStep(`berthd: unmounted ${m.length} leftover mounts`);
    removeCgroupTree(cg);
    rmSync(dir, { recursive: true, force: true });
  };
  // Registered at once (stop is idempotent): a signal during start-up must clean up too.
  onCleanup('berthd', stop);
  try {
    await waitPing(socket, proc, logFile, 20_000);
    const imp = await postFile(socket, `/images/create?fromSrc=-&repo=busybox&tag=latest&changes=${encodeURIComponent('CMD ["sh"]')}`, busyboxTar);
    if (imp.status !== 200 || imp.body.includes('errorDetail')) throw new Error(`import: ${imp.status} ${imp.body}`);
    const v = await api(socket, 'GET', '/version');
    const ver = JSON.parse(v.body) as { Version?: string; ApiVersion?: string };
    return {
      name: 'berthd',
      version: `berthd ${ver.Version ?? '?'} (API ${ver.ApiVersion ?? '?'}${berthTree.root !== ROOT ? `, tree ${berthTree.root}` : ''})${berthTree.note ? ` — ${berthTree.note}` : ''}, runc ${runcVersion()}, conmon ${conmonVersion()}`,
      socket,
      env,
      footprint: () => [
        ...(proc.pid ? [{ pid: proc.pid, cmdline: 'berthd', role: 'berthd' }] : []),
        ...findProcs((p) => p.cmdline.startsWith('/usr/bin/conmon') && p.cmdline.includes(exec)).map((p) => ({ ...p, role: 'conmon' })),
      ],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function runcVersion(): string {
  return /runc version (\S+)/.exec(sh('runc', ['--version']).out)?.[1] ?? '?';
}
function conmonVersion(): string {
  return /conmon version (\S+)/.exec(sh('conmon', ['--version']).out)?.[1] ?? '?';
}

// ---------------------------------------------------------------------------------------------
// dockerd (Debian docker.io) with a containerd of its own

/** Host paths dockerd/containerd may create outside their roots; removed afterwards if we made them. */
const HOST_PATHS = ['/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker', '/etc/docker/key.json'];

export async function startDockerd(busyboxTar: string): Promise<Engine | string> {
  const dockerd = which('dockerd');
  const containerd = which('containerd');
  if (!dockerd || !containerd) return 'dockerd/containerd not installed (apt-get install docker.io)';
  const preexisting = new Set(HOST_PATHS.filter((p) => existsSync(p)));
  if (existsSync('/run/containerd/containerd.sock')) logStep('dockerd: a system containerd socket exists; not touching it (we pass our own --containerd)');
  const dir = mkdtempSync('/tmp/bench-docker-');
  const data = join(dir, 'data');
  const exec = join(dir, 'run');
  const ctrdRoot = join(dir, 'containerd-root');
  const ctrdState = join(dir, 'containerd-state');
  const ctrdSock = join(ctrdState, 'containerd.sock');
  const socket = join(dir, 'docker.sock');
  const cg = cgroupName('berth-bench-docker');
  for (const d of [data, exec, ctrdRoot, ctrdState, join(dir, 'docker-config')]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(dir, 'containerd.toml'),
    [
      'version = 2',
      `root = "${ctrdRoot}"`,
      `state = "${ctrdState}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${ctrdSock}"`,
      '[debug]',
      '  level = "warn"',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${join(ctrdRoot, 'opt')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
  const ctrd = bg(containerd, ['--config', join(dir, 'containerd.toml')], join(dir, 'containerd.log'));
  let dockerProc: ChildProcess | undefined;
  const iptablesBefore = iptablesSnapshot();
  let stopped = false;
  const shims = () => findProcs((p) => p.cmdline.includes('containerd-shim') && p.cmdline.includes(ctrdSock));
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (dockerProc && alive(dockerProc)) {
      try {
        const n = await removeAllContainers(socket);
        if (n) logStep(`dockerd: removed ${n} leftover containers`);
      } catch (err) {
        logStep(`dockerd: container cleanup via API failed: ${(err as Error).message}`);
      }
    }
    await terminate(dockerProc, 15_000);
    await terminate(ctrd, 10_000);
    killAll(shims());
    await sleep(200);
    const m = unmountUnder(dir);
    if (m.length) logStep(`dockerd: unmounted ${m.length} leftover mounts`);
    removeCgroupTree(cg);
    rmSync(dir, { recursive: true, force: true });
    removeNewHostPaths(HOST_PATHS, preexisting);
    const after = iptablesSnapshot();
    if (after !== iptablesBefore) logStep('dockerd: WARNING: iptables rules changed during the dockerd run');
  };
  // Registered at once (stop is idempotent): a signal during start-up must clean up too.
  onCleanup('dockerd', stop);
  try {
    const deadline = Date.now() + 15_000;
    while (!existsSync(ctrdSock)) {
      if (!alive(ctrd)) throw new Error(`containerd exited:\n${tail(join(dir, 'containerd.log'))}`);
      if (Date.now() > deadline) throw new Error('containerd did not create its socket');
      await sleep(50);
    }
    const args = [
      '--data-root', data, '--exec-root', exec, '-H', `unix://${socket}`, '--pidfile', join(dir, 'docker.pid'),
      '--config-file', join(dir, 'daemon.json'), '--containerd', ctrdSock, '--cgroup-parent', `/${cg}`,
      '--bridge', 'none', '--iptables=false', '--ip-masq=false', '--ip6tables=false', '--userland-proxy=false',
      '--storage-driver', 'overlay2', '--log-level', 'warn',
    ];
    // 20.10 writes a trust key to /etc/docker/key.json unless told otherwise (hidden flag).
    dockerProc = bg(dockerd, [...args, '--deprecated-key-path', join(dir, 'key.json')], join(dir, 'dockerd.log'));
    await sleep(300);
    if (!alive(dockerProc)) dockerProc = bg(dockerd, args, join(dir, 'dockerd.log'));
    await waitPing(socket, dockerProc, join(dir, 'dockerd.log'), 30_000);
    const imp = await run('docker', ['import', '--change', 'CMD ["sh"]', busyboxTar, 'busybox:latest'], { env, timeoutMs: 60_000 });
    if (imp.code !== 0) throw new Error(`docker import: ${imp.stderr}`);
    const v = JSON.parse((await api(socket, 'GET', '/version')).body) as { Version?: string; ApiVersion?: string; Components?: Array<{ Name: string; Version: string }> };
    const comp = (v.Components ?? []).filter((c) => c.Name !== 'Engine').map((c) => `${c.Name} ${c.Version}`).join(', ');
    const dp = dockerProc;
    return {
      name: 'dockerd',
      version: `dockerd ${v.Version ?? '?'} (API ${v.ApiVersion ?? '?'}); ${comp}`,
      socket,
      env,
      footprint: () => [
        ...(dp.pid ? [{ pid: dp.pid, cmdline: 'dockerd', role: 'dockerd' }] : []),
        ...(ctrd.pid ? [{ pid: ctrd.pid, cmdline: 'containerd', role: 'containerd' }] : []),
        ...shims().map((p) => ({ ...p, role: 'shim' })),
      ],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Remove host paths an engine created outside its temp dir (only those that did not exist before). */
function removeNewHostPaths(paths: readonly string[], preexisting: ReadonlySet<string>, recursive: ReadonlySet<string> = new Set()): void {
  for (const p of paths) {
    if (preexisting.has(p) || !existsSync(p)) continue;
    try {
      if (recursive.has(p) || p.endsWith('.json')) rmSync(p, { recursive: true, force: true });
      else if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      else logStep(`left ${p} in place: not empty`);
    } catch {
      // leave it
    }
  }
}

function iptablesSnapshot(): string {
  const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#') && !/^:/.test(l)).join('\n');
  return strip(sh('iptables-save', []).out) + '\n' + strip(sh('ip6tables-save', []).out);
}

// ---------------------------------------------------------------------------------------------
// podman (no daemon): private root, runroot, tmpdir and config files

export interface Podman extends Engine {
  /** podman argv prefix with the private global flags. */
  argv: string[];
  cgroupParent: string;
}

/** Host paths podman 4.3 creates even with private roots (network config dir, blob-info cache). */
const PODMAN_HOST_PATHS = ['/run/containers/networks', '/run/containers', '/var/lib/containers/cache', '/var/lib/containers'];

export async function startPodman(busyboxTar: string): Promise<Podman | string> {
  const podman = which('podman');
  if (!podman) return 'podman not installed (apt-get install podman)';
  const preexisting = new Set(PODMAN_HOST_PATHS.filter((p) => existsSync(p)));
  const hardNofile = sh('sh', ['-c', 'ulimit -Hn']).out || '1024';
  const hardNproc = sh('sh', ['-c', 'ulimit -Hu']).out || '4096';
  const dir = mkdtempSync('/tmp/bench-podman-');
  const cg = cgroupName('berth-bench-podman');
  const root = join(dir, 'root');
  const runroot = join(dir, 'runroot');
  const tmp = join(dir, 'tmp');
  for (const d of [root, runroot, tmp]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${root}"\nrunroot = "${runroot}"\n`);
  writeFileSync(join(dir, 'containers.conf'), `[engine]\n# runc, as for the other engines (podman prefers crun when installed, and crun 1.8 refuses\n# this hybrid cgroup host)\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${join(dir, 'events.log')}"\ntmp_dir = "${tmp}"\n[containers]\nnetns = "none"\n# podman asks for nofile/nproc=1048576 as root, above this machine's hard limits\ndefault_ulimits = ["nofile=${hardNofile}:${hardNofile}", "nproc=${hardNproc}:${hardNproc}"]\n[network]\nnetwork_config_dir = "${join(dir, 'networks')}"\n`);
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf') };
  const argv = ['--root', root, '--runroot', runroot, '--tmpdir', tmp, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'overlay'];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await run(podman, [...argv, 'rm', '-af', '-t', '0'], { env, timeoutMs: 60_000 });
    killAll(findProcs((p) => p.cmdline.startsWith('/usr/bin/conmon') && p.cmdline.includes(dir)));
    await sleep(100);
    const m = unmountUnder(dir);
    if (m.length) logStep(`podman: unmounted ${m.length} leftover mounts`);
    removeCgroupTree(cg);
    rmSync(dir, { recursive: true, force: true });
    removeNewHostPaths(PODMAN_HOST_PATHS, preexisting, new Set(['/var/lib/containers/cache']));
  };
  // Registered at once (stop is idempotent): a signal during start-up must clean up too.
  onCleanup('podman', stop);
  try {
    const imp = await run(podman, [...argv, 'import', '--change', 'CMD ["sh"]', busyboxTar, 'busybox:latest'], { env, timeoutMs: 60_000 });
    if (imp.code !== 0) throw new Error(`podman import: ${imp.stderr}`);
    const ver = sh(podman, [...argv, 'version', '--format', '{{.Client.Version}}'], env).out;
    return {
      name: 'podman',
      version: `podman ${ver || '?'} (conmon ${conmonVersion()}, runtime ${sh(podman, [...argv, 'info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}'], env).out.split('\n')[0]})`,
      env,
      argv: [podman, ...argv],
      cgroupParent: `/${cg}`,
      footprint: () => findProcs((p) => p.cmdline.startsWith('/usr/bin/conmon') && p.cmdline.includes(dir)).map((p) => ({ ...p, role: 'conmon' })),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
