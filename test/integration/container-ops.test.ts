// Inspection and lifecycle of running containers (issue 3): stats, top, pause/unpause, update,
// OOM kill, --init, stop signal/timeout. The real docker CLI and berth against a real berthd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { useDaemon, docker, berth, type TestDaemon } from '../helpers/daemon.ts';

const daemon = useDaemon();

interface Ev {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

async function events(d: TestDaemon, since: number, id: string): Promise<Ev[]> {
  const until = Math.ceil(Date.now() / 1000) + 1;
  const r = await d.api('GET', `/events?since=${since}&until=${until}`);
  return r.body
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev)
    .filter((e) => e.Actor.ID === id);
}

async function runDetached(d: TestDaemon, args: string[]): Promise<string> {
  const r = await docker(d, ['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr + d.logs.slice(-2000));
  return r.stdout.trim();
}

test('-m 16m with a memory hog is OOM-killed: exit 137, OOMKilled true, an oom event', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await docker(daemon(), ['run', '--name', 'hog', '-m', '16m', 'busybox', 'tail', '/dev/zero'], { timeoutMs: 120_000 });
  assert.equal(r.code, 137, r.stderr);
  const st = await docker(daemon(), ['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}} {{.State.Status}}', 'hog']);
  assert.equal(st.stdout.trim(), '137 true exited');
  const id = (await docker(daemon(), ['inspect', '-f', '{{.Id}}', 'hog'])).stdout.trim();
  const actions = (await events(daemon(), since, id)).map((e) => e.Action);
  assert.ok(actions.includes('oom'), actions.join(','));
  assert.ok(actions.indexOf('oom') < actions.indexOf('die'), actions.join(','));
  // a container killed by SIGKILL from the user is not OOMKilled
  const k = await runDetached(daemon(), ['--name', 'killed', '-m', '16m', 'busybox', 'sleep', '100']);
  assert.equal((await docker(daemon(), ['kill', 'killed'])).code, 0);
  assert.equal((await docker(daemon(), ['wait', k])).stdout.trim(), '137');
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.State.OOMKilled}}', k])).stdout.trim(), 'false');
  await docker(daemon(), ['rm', '-f', 'hog', 'killed']);
  // conmon writes an `oom` file into its cwd: that must be its monitor directory, not berthd's cwd.
  assert.equal(existsSync(join(daemon().dir, 'oom')), false, 'no oom file in berthd\'s working directory');
});

test('an OOM kill of a child (the init survives) is announced while the container runs, as dockerd does', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = await runDetached(daemon(), ['--name', 'childoom', '-m', '16m', 'busybox', 'sh', '-c', 'tail /dev/zero; echo survived; sleep 1000']);
  let actions: string[] = [];
  for (let i = 0; i < 150 && !actions.includes('oom'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    actions = (await events(daemon(), since, id)).map((e) => e.Action);
  }
  assert.ok(actions.includes('oom'), actions.join(','));
  assert.equal(actions.filter((a) => a === 'oom').length, 1);
  const st = (await docker(daemon(), ['inspect', '-f', '{{.State.Running}} {{.State.OOMKilled}}', 'childoom'])).stdout.trim();
  assert.equal(st, 'true true');
  await docker(daemon(), ['rm', '-f', 'childoom']);
});

test('docker stats --no-stream shows non-zero memory for a running container; the API has Docker\'s shape', async () => {
  const id = await runDetached(daemon(), ['--name', 'st', '-m', '64m', '--pids-limit', '20', 'busybox', 'sh', '-c', 'x=$(head -c 2000000 /dev/zero | tr "\\0" a); sleep 1000']);
  let line = '';
  for (let i = 0; i < 50; i++) {
    const r = await docker(daemon(), ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'st']);
    assert.equal(r.code, 0, r.stderr);
    line = r.stdout.trim();
    if (/^st [1-9][\d.]*[KMG]iB \/ 64MiB [1-9]/.test(line)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(line, /^st [1-9][\d.]*[KMG]iB \/ 64MiB [1-9]\d*$/);
  const all = await docker(daemon(), ['stats', '--no-stream']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT/);
  assert.match(all.stdout, new RegExp(`^${id.slice(0, 12)}\\s+st\\s`, 'm'));
  const b = await berth(daemon(), ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', 'st']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout.trim(), /^st [1-9][\d.]*[KMG]iB \/ 64MiB$/);

  const one = (await daemon().api('GET', `/containers/st/stats?stream=0`)).json<Record<string, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON body checked field by field
  assert.equal(one.id, id);
  assert.equal(one.name, '/st');
  assert.ok(one.memory_stats.usage > 0);
  assert.equal(one.memory_stats.limit, 64 * 1024 * 1024);
  assert.ok(one.cpu_stats.cpu_usage.total_usage > 0);
  assert.ok(one.cpu_stats.system_cpu_usage > one.precpu_stats.system_cpu_usage);
  assert.ok(one.cpu_stats.online_cpus >= 1);
  assert.equal(one.pids_stats.limit, 20);
  assert.ok(one.pids_stats.current >= 1);
  assert.ok(Array.isArray(one.blkio_stats.io_service_bytes_recursive));
  // the stream sends one object a second
  const streamed = await new Promise<number>((resolve, reject) => {
    let n = 0;
    let buf = '';
    import('node:http').then(({ request }) => {
      const req = request({ socketPath: daemon().socket, path: '/containers/st/stats?stream=1' }, (res) => {
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          n = buf.split('\n').filter(Boolean).length;
          if (n >= 2) {
            req.destroy();
            resolve(n);
          }
        });
      });
      req.on('error', (e) => (n >= 2 ? undefined : reject(e)));
      req.end();
    }, reject);
  });
  assert.ok(streamed >= 2);
  await docker(daemon(), ['rm', '-f', 'st']);
  // a stopped container has zero stats, not an error
  const c = await docker(daemon(), ['create', '--name', 'cold', 'busybox', 'true']);
  assert.equal(c.code, 0, c.stderr);
  const cold = (await daemon().api('GET', '/containers/cold/stats?stream=0')).json<{ read: string }>();
  assert.equal(cold.read, '0001-01-01T00:00:00Z');
  await docker(daemon(), ['rm', 'cold']);
});

test('docker top lists the container\'s processes with ps args', async () => {
  await runDetached(daemon(), ['--name', 'tp', 'busybox', 'sh', '-c', 'sleep 1000 & sleep 999']);
  let out = '';
  for (let i = 0; i < 50 && !out.includes('sleep 1000'); i++) {
    out = (await docker(daemon(), ['top', 'tp'])).stdout;
    if (!out.includes('sleep 1000')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
  assert.match(out, /sleep 1000$/m);
  assert.match(out, /sleep 999$/m);
  // header and the two sleeps (sh execs the last one): no host processes
  assert.equal(out.trim().split('\n').length, 3, out);
  const custom = await docker(daemon(), ['top', 'tp', '-o', 'pid,comm']);
  assert.match(custom.stdout, /^PID\s+COMMAND$/m);
  assert.match(custom.stdout, /^\d+\s+sleep$/m);
  const b = await berth(daemon(), ['top', 'tp']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /sleep 999$/m);
  await docker(daemon(), ['rm', '-f', 'tp']);
  const c = await docker(daemon(), ['create', '--name', 'notrun', 'busybox', 'true']);
  assert.equal(c.code, 0);
  const r = await docker(daemon(), ['top', 'notrun']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is not running/);
  await docker(daemon(), ['rm', 'notrun']);
});

test('pause/unpause freeze the container (freezer cgroup) with events; exec in a paused container is refused', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = await runDetached(daemon(), ['--name', 'pz', 'busybox', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']);
  assert.equal((await docker(daemon(), ['pause', 'pz'])).code, 0);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'pz'])).stdout.trim(), 'paused true');
  const freezer = `/sys/fs/cgroup/freezer/${daemon().cgroupParent}/${id}/freezer.state`;
  const { readFileSync, existsSync } = await import('node:fs');
  if (existsSync(freezer)) assert.equal(readFileSync(freezer, 'utf8').trim(), 'FROZEN');
  const again = await docker(daemon(), ['pause', 'pz']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /is already paused/);
  const ex = await docker(daemon(), ['exec', 'pz', 'true']);
  assert.notEqual(ex.code, 0);
  assert.match(ex.stderr, /is paused, unpause the container before exec/);
  assert.match((await docker(daemon(), ['ps', '--filter', 'name=pz', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  assert.equal((await berth(daemon(), ['unpause', 'pz'])).code, 0);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.State.Status}}', 'pz'])).stdout.trim(), 'running');
  const n1 = (await docker(daemon(), ['exec', 'pz', 'cat', '/tmp/n'])).stdout.trim();
  let n2 = n1;
  for (let i = 0; i < 50 && n2 === n1; i++) {
    await new Promise((r) => setTimeout(r, 100));
    n2 = (await docker(daemon(), ['exec', 'pz', 'cat', '/tmp/n'])).stdout.trim();
  }
  assert.notEqual(n2, n1, 'the loop runs again after unpause');
  assert.notEqual((await docker(daemon(), ['unpause', 'pz'])).code, 0);
  // stop of a paused container works (it is thawed to receive the signal)
  assert.equal((await berth(daemon(), ['pause', 'pz'])).code, 0);
  const stop = await docker(daemon(), ['stop', '-t', '1', 'pz']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.State.Status}}', 'pz'])).stdout.trim(), 'exited');
  const actions = (await events(daemon(), since, id)).map((e) => e.Action);
  assert.deepEqual(actions.filter((a) => a === 'pause' || a === 'unpause'), ['pause', 'unpause', 'pause', 'unpause']);
  await docker(daemon(), ['rm', 'pz']);
});

test('update changes memory, cpus, pids and the restart policy of a running container, with an update event', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = await runDetached(daemon(), ['--name', 'up', '-m', '32m', 'busybox', 'sleep', '1000']);
  const r = await docker(daemon(), ['update', '-m', '48m', '--memory-swap', '96m', '--cpus', '0.5', '--pids-limit', '30', '--restart', 'on-failure:3', 'up']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'up');
  const hc = (await docker(daemon(), ['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'up'])).stdout.trim();
  assert.equal(hc, `${48 * 1024 * 1024} 500000000 30 on-failure:3`);
  const inside = await docker(daemon(), ['exec', 'up', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
  if (inside.code === 0) assert.deepEqual(inside.stdout.trim().split('\n'), [String(48 * 1024 * 1024), '30', '50000']);
  const b = await berth(daemon(), ['update', '--pids-limit', '40', 'up']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.HostConfig.PidsLimit}}', 'up'])).stdout.trim(), '40');
  const bad = await daemon().api('POST', '/containers/up/update', { RestartPolicy: { Name: 'sometimes' } });
  assert.equal(bad.status, 400);
  const actions = (await events(daemon(), since, id)).map((e) => e.Action);
  assert.equal(actions.filter((a) => a === 'update').length, 2, actions.join(','));
  await docker(daemon(), ['rm', '-f', 'up']);
  const rm = await docker(daemon(), ['run', '-d', '--rm', '--name', 'auto', 'busybox', 'sleep', '100']);
  assert.equal(rm.code, 0);
  const conflict = await daemon().api('POST', '/containers/auto/update', { RestartPolicy: { Name: 'always' } });
  assert.equal(conflict.status, 409);
  await docker(daemon(), ['rm', '-f', 'auto']);
});

test('--init runs tini as PID 1 (bind-mounted as /sbin/docker-init) and passes the exit code', async () => {
  const r = await docker(daemon(), ['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; exit 4']);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout.trim(), '/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr "\\0" " "; echo; exit 4');
  const plain = await docker(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']);
  assert.match(plain.stdout, /^sh -c/);
});

test('stop signal and stop timeout from flags and from the image config', async () => {
  const id = await runDetached(daemon(), ['--name', 'sig', '--stop-signal', 'USR1', '--stop-timeout', '5', 'busybox', 'sh', '-c', 'trap "echo got-usr1; exit 9" USR1; while :; do sleep 0.1; done']);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.Config.StopSignal}} {{.Config.StopTimeout}}', id])).stdout.trim(), 'USR1 5');
  await new Promise((r) => setTimeout(r, 300));
  const stop = await docker(daemon(), ['stop', 'sig']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.State.ExitCode}}', 'sig'])).stdout.trim(), '9');
  // an image with STOPSIGNAL: the container inherits it
  const commit = await daemon().api('POST', `/commit?container=sig&repo=stopsig&tag=v1&changes=${encodeURIComponent('STOPSIGNAL SIGUSR2')}`);
  assert.equal(commit.status, 201, commit.body);
  const c = await docker(daemon(), ['create', '--name', 'fromimg', 'stopsig:v1', 'sleep', '1']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await docker(daemon(), ['inspect', '-f', '{{.Config.StopSignal}}', 'fromimg'])).stdout.trim(), 'SIGUSR2');
  await docker(daemon(), ['rm', '-f', 'sig', 'fromimg']);
  await docker(daemon(), ['rmi', 'stopsig:v1']);
});
