// Conformance suite for ContainerRuntime, run against ConmonRuntime + runc with real containers.
// Needs root, runc, conmon and /bin/busybox; skipped otherwise.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, copyFile, symlink, writeFile, readFile, rm, chmod } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRuntime } from '../../src/runtime/types.ts';
import { ConmonRuntime, RuntimeCreateError } from '../../src/runtime/conmon/conmon.ts';
import { buildSpec } from '../../src/runtime/spec/build.ts';
import { readLog } from '../../src/runtime/conmon/logfile.ts';
import type { HostConfig } from '../../src/types/docker.ts';
import { realHost } from '../../src/os/host.ts';
import { isKind } from '../../src/lib/errors.ts';
import { cgroupPaths } from '../../src/os/cgroups.ts';
import { deleteStoppedContainer } from '../../src/runtime/oci/stopped-delete.ts';
import { nofileHardLimit, swapLimitSupported } from '../../src/os/limits.ts';

const RUNC = '/usr/bin/runc';
const CONMON = '/usr/bin/conmon';
const canRun = process.getuid?.() === 0 && existsSync(RUNC) && existsSync(CONMON) && existsSync('/bin/busybox');

interface Ctx {
  runtime: ContainerRuntime;
  base: string;
  template: string;
  cgroupParent: string;
}

interface RunOpts {
  args: string[];
  hostConfig?: Partial<HostConfig>;
  hostname?: string;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
}

interface Ctr {
  id: string;
  bundle: string;
  rootfs: string;
  logPath: string;
  cgroupsPath: string;
}

/** Every test container: made under `base`, torn down in `destroy` whatever happened. */
async function prepare(ctx: Ctx, o: RunOpts): Promise<Ctr> {
  const id = `t${randomBytes(6).toString('hex')}`;
  const bundle = join(ctx.base, 'bundles', id);
  const rootfs = join(bundle, 'rootfs');
  const upper = join(bundle, 'upper');
  const work = join(bundle, 'work');
  for (const d of [rootfs, upper, work]) await mkdir(d, { recursive: true });
  // An overlay rootfs like the snapshotter's, which also exercises os/mount.
  await realHost.mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${ctx.template}`, `upperdir=${upper}`, `workdir=${work}`] }], rootfs);
  const cgroupsPath = `${ctx.cgroupParent}/${id}`;
  const spec = buildSpec({
    id,
    args: o.args,
    env: ['PATH=/bin', `HOSTNAME=${o.hostname ?? id.slice(0, 12)}`],
    cwd: '/',
    user: { uid: 0, gid: 0 },
    hostname: o.hostname ?? id.slice(0, 12),
    tty: !!o.tty,
    openStdin: !!o.stdin,
    hostConfig: o.hostConfig ?? {},
    rootfsPath: rootfs,
    cgroupsPath,
    hostFeatures: { nofileLimit: await nofileHardLimit(), swapLimit: await swapLimitSupported() },
  });
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  return { id, bundle, rootfs, logPath: join(bundle, 'ctr.log'), cgroupsPath };
}

async function destroy(ctx: Ctx, c: Ctr): Promise<void> {
  await ctx.runtime.delete(c.id, true).catch(() => {});
  await realHost.unmount(c.rootfs, { detach: true }).catch(() => {});
  await realHost.removeCgroup(c.cgroupsPath).catch(() => {});
  await rm(c.bundle, { recursive: true, force: true });
}

function create(ctx: Ctx, c: Ctr, o: RunOpts) {
  return ctx.runtime.create({ id: c.id, bundleDir: c.bundle, logPath: c.logPath, tty: !!o.tty, stdin: !!o.stdin, stdinOnce: o.stdinOnce });
}

/** Resolves with the exit code once onExit reports `id` (subscribe before start). */
function exitOf(ctx: Ctx, id: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no exit of ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = ctx.runtime.onExit((x) => {
      if (x !== id) return;
      clearTimeout(timer);
      off();
      ctx.runtime.exitCode(id).then((code) => (code === undefined ? reject(new Error('exit file without code')) : resolve(code)), reject);
    });
  });
}

async function logText(c: Ctr): Promise<string> {
  let s = '';
  for await (const e of readLog(c.logPath)) s += e.data.toString();
  return s;
}

/** Create, start, wait for exit; returns code and output. */
async function runToExit(ctx: Ctx, o: RunOpts): Promise<{ code: number; out: string; c: Ctr }> {
  const c = await prepare(ctx, o);
  try {
    const exited = exitOf(ctx, c.id);
    await create(ctx, c, o);
    await ctx.runtime.start(c.id);
    const code = await exited;
    return { code, out: await logText(c), c };
  } finally {
    await destroy(ctx, c);
  }
}

function conmonPids(execRoot: string): number[] {
  const out: number[] = [];
  for (const p of readdirSyncSafe('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes(execRoot)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/** Alive and not a zombie. */
function isLive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]$/.test(st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

function readdirSyncSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

export function runtimeConformance(name: string, makeRuntime: (execRoot: string) => ContainerRuntime, opts: { inProcessDelete?: boolean } = {}): void {
  const inProcessDelete = opts.inProcessDelete ?? false;
  describe(`ContainerRuntime conformance: ${name}`, { skip: !canRun && 'needs root, runc, conmon, busybox' }, () => {
    const ctx = {} as Ctx;

    before(async () => {
      ctx.base = await mkdtemp(join(tmpdir(), 'berth-rt-'));
      ctx.template = join(ctx.base, 'template');
      await mkdir(join(ctx.template, 'bin'), { recursive: true });
      for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) await mkdir(join(ctx.template, d));
      await copyFile('/bin/busybox', join(ctx.template, 'bin/busybox'));
      await chmod(join(ctx.template, 'bin/busybox'), 0o755);
      for (const n of ['sh', 'echo', 'cat', 'sleep', 'hostname', 'stty', 'true']) await symlink('busybox', join(ctx.template, 'bin', n));
      ctx.cgroupParent = `/berth-test-${process.pid}`;
      ctx.runtime = makeRuntime(join(ctx.base, 'run'));
    });

    after(async () => {
      const execRoot = join(ctx.base, 'run');
      // Give exiting monitors a moment, then assert nothing is left behind.
      let left: number[] = [];
      for (let i = 0; i < 50; i++) {
        left = conmonPids(execRoot);
        if (!left.length) break;
        await sleep(20);
      }
      const children = await realHost.listCgroupChildren(ctx.cgroupParent);
      const mounted = (await readFile('/proc/self/mountinfo', 'utf8')).includes(ctx.base);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      await realHost.removeCgroup(ctx.cgroupParent).catch(() => {});
      for (const d of await cgroupPaths(ctx.cgroupParent)) assert.equal(existsSync(d), false, `${d} left behind`);
      await rm(ctx.base, { recursive: true, force: true });
      assert.deepEqual(left, [], 'conmon/runc processes left running');
      assert.deepEqual(children, [], 'container cgroups left behind');
      assert.equal(mounted, false, 'mounts left behind');
    });

    test('runs the command as PID 1 with its hostname; output lands in the log', async () => {
      const { code, out } = await runToExit(ctx, { args: ['sh', '-c', 'echo pid=$$; hostname; echo err >&2'], hostname: 'berthbox' });
      assert.equal(code, 0);
      assert.equal(out, 'pid=1\nberthbox\nerr\n');
    });

    test('create reports the pid, state moves created → running → stopped', async () => {
      const o = { args: ['sh', '-c', 'read x; exit 3'], stdin: true, stdinOnce: true };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        const { pid } = await create(ctx, c, o);
        assert.ok(pid > 1);
        assert.equal((await ctx.runtime.state(c.id))?.status, 'created');
        assert.equal(await ctx.runtime.exitCode(c.id), undefined);
        assert.ok((await ctx.runtime.monitorPid(c.id)) !== undefined);
        await ctx.runtime.start(c.id);
        const st = await ctx.runtime.state(c.id);
        assert.equal(st?.status, 'running');
        assert.equal(st?.pid, pid);
        await assert.rejects(ctx.runtime.delete(c.id), (e) => isKind(e, 'Conflict'));
        const stdin = await ctx.runtime.openStdin(c.id);
        stdin.end('go\n');
        assert.equal(await exited, 3);
        assert.equal((await ctx.runtime.state(c.id))?.status, 'stopped');
        await assert.rejects(ctx.runtime.start(c.id), /stopped|cannot start/);
        await ctx.runtime.delete(c.id);
        assert.equal(await ctx.runtime.state(c.id), undefined);
        assert.equal(await ctx.runtime.exitCode(c.id), undefined);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('exit code 7 reaches onExit and exitCode', async () => {
      const { code } = await runToExit(ctx, { args: ['sh', '-c', 'exit 7'] });
      assert.equal(code, 7);
    });

    test('kill: SIGTERM stops a shell that traps it (143); SIGKILL stops a plain sleep (137)', async () => {
      for (const [args, signal, want] of [
        [['sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.05; done'], 'SIGTERM', 143],
        [['sleep', '60'], 'KILL', 137],
      ] as const) {
        const o = { args: [...args] };
        const c = await prepare(ctx, o);
        try {
          const exited = exitOf(ctx, c.id);
          await create(ctx, c, o);
          await ctx.runtime.start(c.id);
          await sleep(100);
          await ctx.runtime.kill(c.id, signal);
          assert.equal(await exited, want);
        } finally {
          await destroy(ctx, c);
        }
      }
    });

    test('SIGTERM to a PID-1 sleep without a handler is ignored, as under Docker; kill --all 9 ends it', async () => {
      const o = { args: ['sleep', '60'] };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        await ctx.runtime.kill(c.id, 'TERM');
        await sleep(200);
        assert.equal((await ctx.runtime.state(c.id))?.status, 'running');
        await ctx.runtime.kill(c.id, 9, true);
        assert.equal(await exited, 137);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('stdin written through openStdin reaches cat; closing it gives EOF', async () => {
      const o = { args: ['cat'], stdin: true, stdinOnce: true };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        const w = await ctx.runtime.openStdin(c.id);
        w.write('hello\n');
        w.write(Buffer.alloc(20000, 'x'));
        w.end('\nbye\n');
        assert.equal(await exited, 0);
        assert.equal(await logText(c), `hello\n${'x'.repeat(20000)}\nbye\n`);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('memory limit is visible inside through /sys/fs/cgroup', async () => {
      const { code, out } = await runToExit(ctx, {
        args: ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'],
        hostConfig: { Memory: 64 * 1024 * 1024 },
      });
      assert.equal(code, 0);
      assert.equal(out.trim(), '67108864');
    });

    test('a TTY container gets a terminal and resize reaches it', async () => {
      const o = { args: ['sh', '-c', 'sleep 0.5; stty size'], tty: true, hostConfig: { ConsoleSize: [24, 80] as [number, number] } };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        await sleep(100);
        await ctx.runtime.resize(c.id, 31, 101);
        assert.equal(await exited, 0);
        assert.equal((await logText(c)).trim(), '31 101');
      } finally {
        await destroy(ctx, c);
      }
    });

    test('exec: output by stream, exit code, stdin, a TTY with its size; a missing command is refused', async () => {
      const o = { args: ['sleep', '100'] };
      const c = await prepare(ctx, o);
      try {
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        const base = JSON.parse(await readFile(join(c.bundle, 'config.json'), 'utf8')).process;
        const collect = async (x: Awaited<ReturnType<ContainerRuntime['exec']>>): Promise<{ out: string; err: string; code: number }> => {
          let out = '';
          let err = '';
          for await (const chunk of x.output) (chunk.stream === 'stderr' ? (err += chunk.data) : (out += chunk.data));
          return { out, err, code: await x.exited };
        };
        const e1 = await ctx.runtime.exec({ containerId: c.id, execId: `e1${c.id}`, process: { ...base, args: ['sh', '-c', 'echo out; echo err >&2; hostname; exit 5'] }, stdin: false, attach: true });
        assert.ok(e1.pid > 0);
        assert.deepEqual(await collect(e1), { out: `out\n${c.id.slice(0, 12)}\n`, err: 'err\n', code: 5 });
        const e2 = await ctx.runtime.exec({ containerId: c.id, execId: `e2${c.id}`, process: { ...base, args: ['sh', '-c', 'cat; echo done'] }, stdin: true, attach: true });
        e2.stdin!.end('piped\n');
        assert.deepEqual(await collect(e2), { out: 'piped\ndone\n', err: '', code: 0 });
        const e3 = await ctx.runtime.exec({ containerId: c.id, execId: `e3${c.id}`, process: { ...base, terminal: true, consoleSize: { height: 20, width: 70 }, args: ['sh', '-c', 'stty size; sleep 0.5; stty size'] }, stdin: false, attach: true });
        await sleep(200);
        await e3.resize(33, 99);
        const r3 = await collect(e3);
        assert.equal(r3.code, 0);
        assert.equal(r3.out, '20 70\r\n33 99\r\n');
        await assert.rejects(ctx.runtime.exec({ containerId: c.id, execId: `e4${c.id}`, process: { ...base, args: ['nope'] }, stdin: false, attach: true }), /OCI runtime exec failed: .*executable file not found/);
        // the session files are gone once each exec ended
        await sleep(100);
        assert.deepEqual(readdirSyncSafe(join(ctx.base, 'run', 'conmon', c.id, 'exec')), []);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('pause freezes, resume thaws; update changes the memory limit of a running container', async () => {
      const o = { args: ['sleep', '100'], hostConfig: { Memory: 32 * 1024 * 1024 } };
      const c = await prepare(ctx, o);
      try {
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        await ctx.runtime.pause(c.id);
        assert.equal((await ctx.runtime.state(c.id))?.status, 'paused');
        await ctx.runtime.resume(c.id);
        assert.equal((await ctx.runtime.state(c.id))?.status, 'running');
        await ctx.runtime.update(c.id, { memory: { limit: 48 * 1024 * 1024, swap: 96 * 1024 * 1024 } });
        const dir = (await cgroupPaths(c.cgroupsPath)).find((d) => d.includes('/memory/'));
        if (dir) assert.equal(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim(), String(48 * 1024 * 1024));
      } finally {
        await destroy(ctx, c);
      }
    });

    test('an unknown command fails create with the runtime message and leaves nothing behind', async () => {
      const o = { args: ['nosuchcmd'] };
      const c = await prepare(ctx, o);
      try {
        await assert.rejects(create(ctx, c, o), (e: Error) => {
          assert.ok(e instanceof RuntimeCreateError, String(e));
          assert.match(e.runtimeMessage, /exec: "nosuchcmd": executable file not found in \$PATH/);
          assert.equal(e.exitStatus, 127);
          return true;
        });
        assert.equal(await ctx.runtime.state(c.id), undefined);
        for (const d of await cgroupPaths(c.cgroupsPath)) assert.equal(existsSync(d), false, d);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('delete of an exited container removes its runtime state and its cgroups in every hierarchy', async () => {
      const o = { args: ['true'] };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        assert.equal(await exited, 0);
        assert.ok((await cgroupPaths(c.cgroupsPath)).some((d) => existsSync(d)), 'the cgroups exist before delete');
        if (inProcessDelete) assert.equal(await deleteStoppedContainer(join(ctx.base, 'run', 'runc', c.id)), true, 'deleted without the runtime CLI');
        await ctx.runtime.delete(c.id, true);
        assert.equal(await ctx.runtime.state(c.id), undefined);
        assert.equal(existsSync(join(ctx.base, 'run', 'runc', c.id)), false, 'runtime state directory left');
        for (const d of await cgroupPaths(c.cgroupsPath)) assert.equal(existsSync(d), false, `${d} left behind`);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('delete of an exited container that shares the host PID namespace kills what it left in its cgroup', async () => {
      const o = { args: ['sh', '-c', 'sleep 300 & echo $! > /tmp/bg; exit 0'], hostConfig: { PidMode: 'host' } };
      const c = await prepare(ctx, o);
      try {
        const exited = exitOf(ctx, c.id);
        await create(ctx, c, o);
        await ctx.runtime.start(c.id);
        assert.equal(await exited, 0);
        const bg = Number((await readFile(join(c.rootfs, 'tmp/bg'), 'utf8')).trim());
        assert.ok(bg > 1 && existsSync(`/proc/${bg}`), 'the background process outlives the init');
        // Not a case for the in-process delete: the runtime CLI kills the leftovers.
        if (inProcessDelete) assert.equal(await deleteStoppedContainer(join(ctx.base, 'run', 'runc', c.id)), false);
        await ctx.runtime.delete(c.id, true);
        for (let i = 0; i < 100 && isLive(bg); i++) await sleep(20);
        assert.equal(isLive(bg), false, 'the leftover process was killed');
        for (const d of await cgroupPaths(c.cgroupsPath)) assert.equal(existsSync(d), false, `${d} left behind`);
      } finally {
        await destroy(ctx, c);
      }
    });

    test('timing: create + start + exit of `true`', async () => {
      const samples: Array<[number, number, number]> = [];
      for (let i = 0; i < 5; i++) {
        const o = { args: ['true'] };
        const c = await prepare(ctx, o);
        try {
          const exited = exitOf(ctx, c.id);
          const t0 = performance.now();
          await create(ctx, c, o);
          const t1 = performance.now();
          await ctx.runtime.start(c.id);
          const t2 = performance.now();
          assert.equal(await exited, 0);
          samples.push([t1 - t0, t2 - t1, performance.now() - t2]);
        } finally {
          await destroy(ctx, c);
        }
      }
      const med = (k: number) => samples.map((s) => s[k]).sort((a, b) => a - b)[2].toFixed(1);
      console.log(`# ${name}: median create ${med(0)} ms, start ${med(1)} ms, start→exit seen ${med(2)} ms`);
    });
  });
}

runtimeConformance('conmon+runc', (execRoot) => new ConmonRuntime({ runtimePath: RUNC, conmonPath: CONMON, execRoot }), { inProcessDelete: true });
runtimeConformance('conmon+runc (runc start)', (execRoot) => new ConmonRuntime({ runtimePath: RUNC, conmonPath: CONMON, execRoot, fifoStart: false }));
