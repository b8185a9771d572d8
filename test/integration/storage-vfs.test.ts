// The core container flows on the vfs storage driver (issue 7: "the whole container suite passes
// with --storage-driver vfs as well as overlay"). The full suite runs on vfs with
// BERTH_TEST_STORAGE_DRIVER=vfs; this file keeps the core of it in every CI run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { useDaemon, docker, NODE, BERTHD } from '../helpers/daemon.ts';

const daemon = useDaemon({ args: ['--storage-driver', 'vfs'] });

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

test('info reports the vfs driver and its backing filesystem', async () => {
  const info = JSON.parse(await ok(['info', '--format', '{{json .}}']));
  assert.equal(info.Driver, 'vfs');
  assert.equal(info.DriverStatus[0][0], 'Backing Filesystem');
  assert.match(info.DriverStatus[0][1], /^[a-z]/);
});

test('run --rm, exit codes, stdout/stderr', async () => {
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
  const r = await docker(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal((await ok(['ps', '-aq'])).trim(), '');
});

test('a container writes into its own copy: the image and other containers do not see it', async () => {
  await ok(['run', '--name', 'w1', 'busybox', 'sh', '-c', 'echo mine > /etc/motd; rm /etc/hostname.bak 2>/dev/null; rm -f /bin/vi']);
  assert.equal((await docker(daemon(), ['run', '--rm', 'busybox', 'cat', '/etc/motd'])).code, 1, 'not in the image');
  assert.equal(await ok(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /bin/vi && echo present']), 'present\n');
  const insp = JSON.parse(await ok(['inspect', 'w1']))[0];
  assert.equal(insp.Driver, 'vfs');
  assert.equal(insp.GraphDriver.Name, 'vfs');
  await ok(['start', '-a', 'w1']);
  await ok(['rm', 'w1']);
});

test('detached container: ps, logs, stop, rm', async () => {
  await ok(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 60 & wait']);
  assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^web Up /m);
  let logs = '';
  for (let i = 0; i < 100 && !logs.includes('started'); i++) {
    logs = await ok(['logs', 'web']);
    if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs, 'started\n');
  await ok(['stop', '-t', '1', 'web']);
  assert.equal((await ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'web'])).trim(), 'exited 143');
  await ok(['rm', 'web']);
});

test('volumes on vfs: named volume copy-up and survival across containers', async () => {
  await ok(['run', '--rm', '-v', 'vfsvol:/etc', 'busybox', 'sh', '-c', 'test -f /etc/passwd && echo extra > /etc/extra']);
  assert.equal(await ok(['run', '--rm', '-v', 'vfsvol:/x', 'busybox', 'sh', '-c', 'cat /x/extra; grep -c root /x/passwd']), 'extra\n1\n');
  await ok(['volume', 'rm', 'vfsvol']);
});

test('kill -9 and restart keep the vfs driver; a different driver on this data root is refused', async () => {
  const d = daemon();
  await ok(['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '600']);
  await d.kill9();
  await d.start({}, []); // no flag: the data root's driver
  assert.equal((await ok(['info', '--format', '{{.Driver}}'])).trim(), 'vfs');
  assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^survivor Up /m);
  await ok(['rm', '-f', 'survivor']);
  const snapshots = join(d.dataRoot, 'snapshots');
  assert.ok(existsSync(snapshots) && readdirSync(snapshots).length > 0);
  await d.stop();

  // the same data root with overlay: refused at start, with the reason
  const run2 = join(d.dir, 'run2');
  const r = spawnSync(NODE, [BERTHD, '--data-root', d.dataRoot, '--exec-root', run2, '-H', `unix://${join(run2, 's.sock')}`, '--cgroup-parent', d.cgroupParent, '--storage-driver', 'overlay'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /holds layers of the vfs storage driver; start with --storage-driver vfs/);
  await d.start();
});
