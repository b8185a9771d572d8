// Where the time of `run --rm busybox true` goes, measured from outside the daemon:
//  - replayRun(): the docker CLI's request sequence (trace §2 `run --rm`) with each call timed, and
//    the daemon's own container events (create/start/die/destroy) timestamped on arrival;
//  - floors: node startup, CLI startup, `runc run` of a plain bundle, runc create/start/delete,
//    conmon + runc (what berthd drives) without any daemon, mount(8)/umount(8) of an overlay.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { api, attach, stream } from './http.ts';
import { now, removeCgroupTree, run, sh, sleep, summarize, unmountUnder, type Summary } from './util.ts';

// ---------------------------------------------------------------------------------------------
// The docker CLI's `run --rm busybox true`, replayed

/** The create body the docker CLI 28 sends for `run --rm busybox true` (full struct, zero values). */
export function cliCreateBody(image: string, cmd: string[]): Record<string, unknown> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: cmd, Image: image, Volumes: {},
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default', PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: true, VolumeDriver: '', VolumesFrom: null,
      ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [],
      ExtraHosts: null, GroupAdd: null, IpcMode: '', Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '',
      Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
      ShmSize: 0, Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0,
      BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
      CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '', Devices: [],
      DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: -1,
      OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
      MaskedPaths: null, ReadonlyPaths: null,
    },
    NetworkingConfig: { EndpointsConfig: { default: { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null } } },
  };
}

/** One replayed run: ms offsets from the first byte sent. */
export interface ReplaySample {
  ping: number;
  create: number;
  attachWaitSetup: number;
  start: number;
  /** 204 of start → 'die' event seen (negative: the exit was announced before the 204). */
  startToDie: number;
  /** 'die' → 'destroy' event: the --rm removal. */
  dieToDestroy: number;
  /** 'destroy' → wait?condition=removed body received. */
  destroyToWait: number;
  /** start sent → attach stream EOF. */
  startToAttachEof: number;
  total: number;
}

interface EventTimes {
  [idAndAction: string]: number;
}

/** A persistent `GET /events` stream recording when each container event arrives. */
export async function eventRecorder(socket: string, prefix: string): Promise<{ times: EventTimes; close: () => void }> {
  const times: EventTimes = {};
  const filters = encodeURIComponent(JSON.stringify({ type: { container: true } }));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: socket, method: 'GET', path: `${prefix}/events?filters=${filters}`, agent: false }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        const at = now();
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const ev = JSON.parse(line) as { Action?: string; status?: string; id?: string; Actor?: { ID?: string } };
            const id = ev.Actor?.ID ?? ev.id ?? '';
            const action = (ev.Action ?? ev.status ?? '').split(':')[0];
            times[`${id}/${action}`] ??= at;
          } catch {
            // partial or non-JSON line
          }
        }
      });
      res.on('error', () => {});
      resolve({ times, close: () => req.destroy() });
    });
    req.on('error', (e) => reject(e));
    req.end();
  });
}

/** The API version the daemon offers (Api-Version of HEAD /_ping), capped at 1.50 like the CLI. */
export async function apiPrefix(socket: string): Promise<string> {
  const r = await api(socket, 'HEAD', '/_ping');
  const v = String(r.headers['api-version'] ?? '1.24');
  const [maj, min] = v.split('.').map(Number);
  return maj > 1 || (maj === 1 && min > 50) ? '/v1.50' : `/v${v}`;
}

export async function replayRun(socket: string, prefix: string, events: EventTimes): Promise<ReplaySample> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const t0 = now();
    const ping = await api(socket, 'HEAD', '/_ping', { agent });
    const t1 = now();
    const c = await api(socket, 'POST', `${prefix}/containers/create`, { agent, body: cliCreateBody('busybox', ['true']) });
    if (c.status !== 201) throw new Error(`create: ${c.status} ${c.body}`);
    const id = (JSON.parse(c.body) as { Id: string }).Id;
    const t2 = now();
    const [att, wait] = await Promise.all([
      attach(socket, `${prefix}/containers/${id}/attach?stderr=1&stdout=1&stream=1`),
      stream(socket, 'POST', `${prefix}/containers/${id}/wait?condition=removed`, { agent }),
    ]);
    const t3 = now();
    const st = await api(socket, 'POST', `${prefix}/containers/${id}/start`, { agent });
    if (st.status !== 204) throw new Error(`start: ${st.status} ${st.body}`);
    const t4 = now();
    const [eof, waited] = await Promise.all([att.ended, wait.done]);
    if (!/"StatusCode":0/.test(waited.body)) throw new Error(`wait: ${waited.body}`);
    // events may trail the wait answer by a moment
    for (let i = 0; i < 50 && events[`${id}/destroy`] === undefined; i++) await sleep(2);
    const die = events[`${id}/die`] ?? Number.NaN;
    const destroy = events[`${id}/destroy`] ?? Number.NaN;
    void ping;
    return {
      ping: t1 - t0,
      create: t2 - t1,
      attachWaitSetup: t3 - t2,
      start: t4 - t3,
      startToDie: die - t4,
      dieToDestroy: destroy - die,
      destroyToWait: waited.at - destroy,
      startToAttachEof: eof.at - t3,
      total: Math.max(waited.at, eof.at) - t0,
    };
  } finally {
    agent.destroy();
  }
}

export function summarizeReplay(samples: ReplaySample[]): Record<keyof ReplaySample, Summary> {
  const keys = Object.keys(samples[0] ?? {}) as Array<keyof ReplaySample>;
  const out = {} as Record<keyof ReplaySample, Summary>;
  for (const k of keys) out[k] = summarize(samples.map((s) => s[k]).filter((x) => Number.isFinite(x)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Floors without any daemon

export interface Floors {
  [name: string]: Summary | string;
}

/** A runc bundle of the busybox rootfs running `true`, with cgroups under /<cgroupParent>/. */
function makeBundle(dir: string, busyboxTar: string, cgroupParent: string): string {
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'rootfs'), { recursive: true });
  if (!sh('tar', ['-xf', busyboxTar, '-C', join(bundle, 'rootfs')]).ok) throw new Error('tar -x of the busybox rootfs failed');
  if (!sh('runc', ['spec', '--bundle', bundle]).ok) throw new Error('runc spec failed');
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
    process: { args: string[]; terminal: boolean };
    root: { readonly: boolean };
    linux: { cgroupsPath?: string };
  };
  spec.process.args = ['true'];
  spec.process.terminal = false;
  spec.linux.cgroupsPath = `/${cgroupParent}/ID`;
  writeFileSync(join(bundle, 'config.json.tmpl'), JSON.stringify(spec));
  return bundle;
}

function setBundleId(bundle: string, id: string): void {
  writeFileSync(join(bundle, 'config.json'), readFileSync(join(bundle, 'config.json.tmpl'), 'utf8').replace('/ID"', `/${id}"`));
}

async function repeat(n: number, warmups: number, fn: (i: number) => Promise<number>): Promise<Summary> {
  const xs: number[] = [];
  for (let i = 0; i < warmups + n; i++) {
    const ms = await fn(i);
    if (i >= warmups) xs.push(ms);
  }
  return summarize(xs);
}

export async function measureFloors(opts: { busyboxTar: string; runs: number; warmups: number; berthCli?: string[] }): Promise<Floors> {
  const { runs, warmups } = opts;
  const floors: Floors = {};
  const ok = (r: { code: number; stderr: string; ms: number }, what: string): number => {
    if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.ms;
  };
  floors['spawn /bin/true (from Node)'] = await repeat(runs, warmups, async () => ok(await run('/bin/true', []), 'true'));
  floors['node -e 0 (Node 24 startup)'] = await repeat(runs, warmups, async () => ok(await run(process.execPath, ['-e', '0']), 'node'));
  floors['docker --version (docker CLI startup, no daemon)'] = await repeat(runs, warmups, async () => ok(await run('docker', ['--version']), 'docker --version'));
  if (opts.berthCli) {
    const [cmd, ...args] = opts.berthCli;
    floors['berth --version (berth CLI startup, no daemon)'] = await repeat(runs, warmups, async () => ok(await run(cmd, [...args, '--version']), 'berth --version'));
  }

  const dir = mkdtempSync('/tmp/berth-bench-floor-');
  const cg = `berth-bench-floor-${process.pid}`;
  const root = join(dir, 'runc-root');
  try {
    const bundle = makeBundle(dir, opts.busyboxTar, cg);
    let seq = 0;
    floors['runc run (plain bundle, `true`)'] = await repeat(runs, warmups, async () => {
      const id = `bench-run-${seq++}`;
      setBundleId(bundle, id);
      return ok(await run('runc', ['--root', root, 'run', '--bundle', bundle, id]), 'runc run');
    });
    const creates: number[] = [];
    const starts: number[] = [];
    const deletes: number[] = [];
    for (let i = 0; i < warmups + runs; i++) {
      const id = `bench-split-${i}`;
      setBundleId(bundle, id);
      const c = ok(await run('runc', ['--root', root, 'create', '--bundle', bundle, id], { ignoreStdio: true }), 'runc create');
      const s = ok(await run('runc', ['--root', root, 'start', id]), 'runc start');
      for (let j = 0; j < 500; j++) {
        const st = sh('runc', ['--root', root, 'state', id]).out;
        if (st.includes('"stopped"')) break;
        await sleep(2);
      }
      const d = ok(await run('runc', ['--root', root, 'delete', id]), 'runc delete');
      if (i >= warmups) {
        creates.push(c);
        starts.push(s);
        deletes.push(d);
      }
    }
    floors['runc create'] = summarize(creates);
    floors['runc start'] = summarize(starts);
    floors['runc delete (stopped)'] = summarize(deletes);

    const conmon = await conmonFloor(dir, bundle, root, runs, warmups);
    Object.assign(floors, conmon);

    // mount(8) + umount(8) of a one-layer overlay, as berthd does per container start/removal
    const ov = join(dir, 'ov');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(ov, d), { recursive: true });
    const mounts: number[] = [];
    const umounts: number[] = [];
    for (let i = 0; i < warmups + runs; i++) {
      const m = ok(await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(bundle, 'rootfs')},upperdir=${join(ov, 'upper')},workdir=${join(ov, 'work')}`, join(ov, 'merged')]), 'mount');
      const u = ok(await run('umount', [join(ov, 'merged')]), 'umount');
      if (i >= warmups) {
        mounts.push(m);
        umounts.push(u);
      }
    }
    floors['mount(8) -t overlay'] = summarize(mounts);
    floors['umount(8)'] = summarize(umounts);
  } finally {
    sh('sh', ['-c', `for c in $(runc --root ${root} list -q 2>/dev/null); do runc --root ${root} delete -f $c; done`]);
    unmountUnder(dir);
    removeCgroupTree(cg);
    rmSync(dir, { recursive: true, force: true });
  }
  return floors;
}

/** conmon + runc as berthd drives them (sync pipe, exit dir), with no daemon: the pure monitor cost. */
async function conmonFloor(dir: string, bundle: string, root: string, runs: number, warmups: number): Promise<Floors> {
  const exitDir = join(dir, 'exits');
  const sockDir = join(dir, 'sock');
  mkdirSync(exitDir, { recursive: true });
  mkdirSync(sockDir, { recursive: true });
  const created: number[] = [];
  const started: number[] = [];
  const exited: number[] = [];
  const deleted: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < warmups + runs; i++) {
    const id = `bench-conmon-${i}`;
    setBundleId(bundle, id);
    const cdir = join(dir, 'conmon', id);
    mkdirSync(cdir, { recursive: true });
    const exitFile = join(exitDir, id);
    let exitAt = Number.NaN;
    const w = watch(exitDir, (_e, name) => {
      if (name?.toString() === id && Number.isNaN(exitAt) && existsSync(exitFile)) exitAt = now();
    });
    const t0 = now();
    const args = [
      '--api-version', '1', '-c', id, '-u', id, '-n', id, '-r', '/usr/sbin/runc', '-b', bundle,
      '-p', join(cdir, 'pidfile'), '-P', join(cdir, 'conmon.pid'), '--exit-dir', exitDir, '--socket-dir-path', sockDir,
      '-l', `k8s-file:${join(cdir, 'ctr.log')}`, '--log-level', 'warning', '--no-sync-log',
      '--runtime-arg', '--root', '--runtime-arg', root,
    ];
    const child = spawn('/usr/bin/conmon', args, {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
      detached: true,
    });
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const startPipe = child.stdio[4] as NodeJS.WritableStream;
    startPipe.on('error', () => {});
    startPipe.end(Buffer.from([0]));
    const pid = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('conmon: no pid within 10 s')), 10_000);
      sync.on('data', (c: Buffer) => {
        buf += c.toString();
        try {
          const msg = JSON.parse(buf.split('\n')[0]) as { data: number };
          clearTimeout(timer);
          resolve(msg.data);
        } catch {
          // wait for more
        }
      });
      sync.on('end', () => {
        clearTimeout(timer);
        reject(new Error(`conmon ended without a pid: ${buf}`));
      });
    });
    sync.destroy();
    if (pid <= 0) throw new Error(`conmon/runc create failed (${pid})`);
    const t1 = now();
    const s = await run('runc', ['--root', root, 'start', id]);
    if (s.code !== 0) throw new Error(`runc start: ${s.stderr}`);
    const t2 = now();
    for (let j = 0; j < 2500 && Number.isNaN(exitAt); j++) {
      if (existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '') exitAt = now();
      else await sleep(1);
    }
    w.close();
    const d = await run('runc', ['--root', root, 'delete', id]);
    if (d.code !== 0) throw new Error(`runc delete: ${d.stderr}`);
    const t3 = now();
    if (i >= warmups) {
      created.push(t1 - t0);
      started.push(t2 - t1);
      exited.push(exitAt - t2);
      deleted.push(t3 - exitAt);
      totals.push(t3 - t0);
    }
    rmSync(exitFile, { force: true });
  }
  return {
    'conmon spawn → runc create → pid on sync pipe': summarize(created),
    'conmon: runc start': summarize(started),
    'conmon: start → exit file written': summarize(exited.filter((x) => Number.isFinite(x))),
    'conmon: runc delete': summarize(deleted.filter((x) => Number.isFinite(x))),
    'conmon + runc total (no daemon)': summarize(totals.filter((x) => Number.isFinite(x))),
  };
}
