// berthd --default-runtime crun: containers run, exec and stats work through crun where the host
// allows it; where crun cannot run containers at all (a hybrid cgroup host with controllers left
// on cgroup v2: crun 1.8 refuses every container there), berthd refuses to start with the reason
// and makes nothing — and the test then runs crun end to end in a mount namespace that hides the
// cgroup2 mount (a plain v1 host to crun).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, docker, NODE, BERTHD, cgroupDirs } from '../helpers/daemon.ts';
import { crunUnsupported } from '../../src/runtime/oci/crun.ts';

const d = new TestDaemon();
after(async () => {
  await d.cleanup();
});

test('--default-runtime crun: run, exec, update, stats and --rm through crun; a clear refusal where crun cannot run', async () => {
  assert.ok(existsSync('/usr/bin/crun'), 'crun is installed (scripts/setup.sh)');
  const why = await crunUnsupported();
  if (why) {
    // This host: berthd refuses at once and makes nothing.
    const r = spawnSync(NODE, [BERTHD, '--default-runtime', 'crun', '--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', d.host, '--cgroup-parent', d.cgroupParent, ...d.netArgs], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /--default-runtime crun: crun cannot run containers on this host: .*hybrid.*use runc/);
    assert.equal(existsSync(d.dataRoot), false, 'no data root made');
    assert.equal(existsSync(d.execRoot), false, 'no exec root made');
    // Still run crun end to end: in a mount namespace without the cgroup2 mount the host is a plain
    // cgroup v1 host to berthd, conmon and crun (the v1 hierarchies are the host's own).
    const v2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
    assert.ok(v2, 'a cgroup2 mount on a hybrid host');
    d.launcher = ['unshare', '--mount', '--propagation', 'slave', 'sh', '-c', `umount ${v2} && exec "$@"`, 'sh'];
  }
  await d.start({}, ['--default-runtime', 'crun']);
  await d.importBusybox();
  const info = await docker(d, ['info', '--format', '{{.DefaultRuntime}}']);
  assert.equal(info.stdout.trim(), 'crun', info.stderr);
  const run = await docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'echo hello from $(hostname)']);
  assert.equal(run.code, 0, run.stderr + d.logs.slice(-2000));
  assert.match(run.stdout, /^hello from [0-9a-f]{12}\n$/);
  assert.equal((await docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
  const id = (await docker(d, ['run', '-d', '-m', '32m', 'busybox', 'sleep', '300'])).stdout.trim();
  const inspect = await docker(d, ['inspect', '-f', '{{.HostConfig.Runtime}} {{.State.Running}}', id]);
  assert.equal(inspect.stdout.trim(), 'crun true', inspect.stderr);
  const ex = await docker(d, ['exec', id, 'sh', '-c', 'echo in; exit 4']);
  assert.equal(ex.code, 4, ex.stderr);
  assert.equal(ex.stdout, 'in\n');
  const tty = await docker(d, ['exec', '-t', id, 'echo', 'tty']);
  assert.equal(tty.code, 0, tty.stderr);
  assert.equal(tty.stdout.replace(/\r/g, ''), 'tty\n');
  assert.equal((await docker(d, ['update', '-m', '64m', id])).code, 0);
  const stats = await docker(d, ['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /\/ 64MiB/);
  assert.equal((await docker(d, ['pause', id])).code, 0);
  assert.equal((await docker(d, ['unpause', id])).code, 0);
  assert.equal((await docker(d, ['rm', '-f', id])).code, 0);
  assert.deepEqual(cgroupDirs(d.cgroupParent).filter((p) => !p.endsWith(`/${d.cgroupParent}`)), [], 'no container cgroups left');
  const left = spawnSync('crun', ['--root', join(d.execRoot, 'runc'), 'list', '-q'], { encoding: 'utf8' });
  assert.equal(left.stdout.trim(), '', 'no crun state left');
});
