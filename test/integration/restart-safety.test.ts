// kill -9 of berthd loses nothing (issue 2 acceptance).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TestDaemon, docker, leakedMounts, conmonsUnder, listDir } from '../helpers/daemon.ts';

const d = new TestDaemon();
after(async () => {
  await d.cleanup();
});

test('a running container survives kill -9 of berthd; a half-created one is gone', async () => {
  await d.start();
  await d.importBusybox();
  const run = await docker(d, ['run', '-d', '--name', 'survivor', 'busybox', 'sh', '-c', 'echo before; sleep 1; echo after; exec sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  await d.kill9();

  // Crash in the middle of a create: the failpoint SIGKILLs berthd after the snapshot and files
  // exist but before the record is written.
  await d.start({ BERTH_FAILPOINT: 'container-create-before-commit' });
  const half = d.api('POST', '/containers/create?name=halfmade', { Image: 'busybox', Cmd: ['true'] }).catch(() => undefined);
  await d.exited();
  await half;
  assert.equal(listDir(join(d.dataRoot, 'containers')).length, 2, 'the half-made container left files before the restart');

  await d.start();
  // The running one is still running, listed and attachable for logs.
  const ps = await docker(d, ['ps', '--format', '{{.ID}} {{.Names}} {{.State}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.equal(ps.stdout.trim(), `${id.slice(0, 12)} survivor running`);
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('after'); i++) {
    logs = (await docker(d, ['logs', 'survivor'])).stdout;
    if (!logs.includes('after')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs, 'before\nafter\n');
  // The half-made one is gone without a trace.
  const all = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(all.json<Array<{ Id: string }>>().map((c) => c.Id), [id]);
  assert.deepEqual(listDir(join(d.dataRoot, 'containers')), [id]);
  assert.equal(listDir(join(d.dataRoot, 'snapshots')).filter((n) => !n.startsWith('.')).length, 2, 'busybox layer + survivor rootfs');
  // Still stoppable.
  const stop = await docker(d, ['stop', '-t', '1', 'survivor']);
  assert.equal(stop.code, 0, stop.stderr);
  const st = await docker(d, ['inspect', '--format', '{{.State.Status}}', 'survivor']);
  assert.equal(st.stdout.trim(), 'exited');
  assert.equal((await docker(d, ['rm', 'survivor'])).code, 0);
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
});

test('a crash while a start is under way (the monitor already spawned) is released at restart', async () => {
  // The failpoint SIGKILLs berthd once config.json is written, before conmon is told to create
  // the container: conmon's start pipe ends, it goes on and creates it. Restore must release that.
  await d.stop();
  await d.start({ BERTH_FAILPOINT: 'container-start-before-runtime' });
  const c = await d.api('POST', '/containers/create?name=cutshort', { Image: 'busybox', Cmd: ['sleep', '300'] });
  assert.equal(c.status, 201, c.body);
  const id = c.json<{ Id: string }>().Id;
  const started = d.api('POST', `/containers/${id}/start`).catch(() => undefined);
  await d.exited();
  await started;
  // give the orphaned conmon time to run `runc create`
  await new Promise((r) => setTimeout(r, 500));
  await d.start();
  const st = await docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'cutshort']);
  assert.equal(st.stdout.trim(), 'created 0');
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
  for (const sub of ['conmon', 'exits', 'runc']) assert.deepEqual(listDir(join(d.execRoot, sub)), [], sub);
  // and it starts normally afterwards
  const again = await docker(d, ['start', 'cutshort']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await docker(d, ['rm', '-f', 'cutshort'])).code, 0);
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
});

test('a crash during a restart by policy (record still `restarting`) is released, and the policy goes on', async () => {
  await d.stop();
  await d.start({ BERTH_FAILPOINT: 'container-restart-before-runtime' });
  // the user's start runs; the policy's first restart SIGKILLs berthd with conmon spawned
  const run = await docker(d, ['run', '-d', '--restart', 'always', '--name', 'flapcut', 'busybox', 'sh', '-c', 'exit 1']);
  assert.equal(run.code, 0, run.stderr);
  await d.exited();
  await new Promise((r) => setTimeout(r, 500));
  await d.start();
  type St = { RestartCount: number; State: { Status: string; Error: string } };
  let st: St | undefined;
  for (let i = 0; i < 100; i++) {
    st = (await d.api('GET', '/containers/flapcut/json')).json<St>();
    if (st.RestartCount >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(st && st.RestartCount >= 3, `restarts went on after the crash: ${JSON.stringify(st)}`);
  assert.doesNotMatch(st.State.Error, /already exists/);
  assert.equal((await docker(d, ['rm', '-f', 'flapcut'])).code, 0);
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
});

test('an exit that happens while berthd is down is recorded at restart', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'shortlived', 'busybox', 'sh', '-c', 'sleep 1; exit 5']);
  assert.equal(run.code, 0, run.stderr);
  await d.kill9();
  await new Promise((r) => setTimeout(r, 1500));
  await d.start();
  const st = await docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived']);
  assert.equal(st.stdout.trim(), 'exited 5');
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.equal((await docker(d, ['rm', 'shortlived'])).code, 0);
});

test('SIGTERM stops serving and leaves containers running', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'keeper', 'busybox', 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  const pid = (await d.api('GET', '/containers/keeper/json')).json<{ State: { Pid: number } }>().State.Pid;
  await d.stop();
  assert.ok(pid > 0);
  process.kill(pid, 0); // still alive (throws if not)
  await d.start();
  const st = await docker(d, ['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'keeper']);
  assert.equal(st.stdout.trim(), `running ${pid}`);
  assert.equal((await docker(d, ['rm', '-f', 'keeper'])).code, 0);
  assert.throws(() => process.kill(pid, 0));
});
