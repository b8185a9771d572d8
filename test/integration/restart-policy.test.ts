// Restart policies (issue 3): always / on-failure:N / unless-stopped with the real docker CLI, a
// stop that cancels them, and berthd's start after kill -9 (and a simulated host reboot).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestDaemon, docker, conmonsUnder } from '../helpers/daemon.ts';

const d = new TestDaemon();
after(async () => {
  await d.cleanup();
});

interface Inspect {
  Id: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; Restarting: boolean; Pid: number; ExitCode: number; StartedAt: string };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

async function inspect(name: string): Promise<Inspect> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json<Inspect>();
}

/** Poll until `pred` holds (generous deadline: the machine is busy). */
async function until<T>(what: string, get: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await get();
  while (!pred(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}\n${d.logs.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  return v;
}

test('--restart always: the container is restarted after it exits, RestartCount grows; stop ends it', async () => {
  await d.start();
  await d.importBusybox();
  const since = Math.floor(Date.now() / 1000) - 1;
  const run = await docker(d, ['run', '-d', '--restart', 'always', '--name', 'alw', 'busybox', 'sh', '-c', 'sleep 0.2; exit 3']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const st = await until('two restarts', () => inspect('alw'), (s) => s.RestartCount >= 2);
  assert.deepEqual(st.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  // docker stop during a run or during the backoff: no more restarts afterwards.
  const stop = await docker(d, ['stop', '-t', '1', 'alw']);
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = await until('exited', () => inspect('alw'), (s) => s.State.Status === 'exited');
  await new Promise((r) => setTimeout(r, 1500));
  const later = await inspect('alw');
  assert.equal(later.State.Status, 'exited');
  assert.equal(later.RestartCount, stopped.RestartCount, 'no restart after a manual stop');
  // Events: each restart is a die followed by a start.
  const ev = await docker(d, ['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.equal(ev.code, 0, ev.stderr);
  const actions = ev.stdout.trim().split('\n');
  assert.equal(actions[0], 'create');
  assert.equal(actions[1], 'start');
  assert.equal(actions[2], 'die');
  assert.equal(actions[3], 'start');
  // Every die but the last led to a restart (the stop may also cancel one counted at its die, as dockerd).
  const dies = actions.filter((a) => a === 'die').length;
  assert.ok(dies === later.RestartCount || dies === later.RestartCount + 1, actions.join(' '));
  assert.equal(actions.filter((a) => a === 'start').length, dies, actions.join(' '));
  assert.equal((await docker(d, ['rm', '-f', 'alw'])).code, 0);
});

test('--restart on-failure:2 retries twice on failure, never after success', async () => {
  const fail = await docker(d, ['run', '-d', '--restart', 'on-failure:2', '--name', 'onf', 'busybox', 'sh', '-c', 'exit 7']);
  assert.equal(fail.code, 0, fail.stderr);
  const st = await until('on-failure to give up', () => inspect('onf'), (s) => s.State.Status === 'exited' && s.RestartCount === 2);
  assert.equal(st.State.ExitCode, 7);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await inspect('onf')).RestartCount, 2, 'no third retry');

  const ok = await docker(d, ['run', '-d', '--restart', 'on-failure', '--name', 'onok', 'busybox', 'true']);
  assert.equal(ok.code, 0, ok.stderr);
  await until('exit', () => inspect('onok'), (s) => s.State.Status === 'exited');
  await new Promise((r) => setTimeout(r, 1000));
  const okSt = await inspect('onok');
  assert.equal(okSt.State.Status, 'exited');
  assert.equal(okSt.RestartCount, 0);
  assert.equal((await docker(d, ['rm', 'onf', 'onok'])).code, 0);
});

test('kill -9 of berthd: unless-stopped containers that were running run again; a user-stopped one stays stopped', async () => {
  const up = await docker(d, ['run', '-d', '--restart', 'unless-stopped', '--name', 'us', 'busybox', 'sleep', '300']);
  assert.equal(up.code, 0, up.stderr);
  const up2 = await docker(d, ['run', '-d', '--restart', 'unless-stopped', '--name', 'us-reboot', 'busybox', 'sleep', '300']);
  assert.equal(up2.code, 0, up2.stderr);
  const stoppedRun = await docker(d, ['run', '-d', '--restart', 'unless-stopped', '--name', 'us-stopped', 'busybox', 'sleep', '300']);
  assert.equal(stoppedRun.code, 0, stoppedRun.stderr);
  const alwaysRun = await docker(d, ['run', '-d', '--restart', 'always', '--name', 'alw-stopped', 'busybox', 'sleep', '300']);
  assert.equal(alwaysRun.code, 0, alwaysRun.stderr);
  assert.equal((await docker(d, ['stop', '-t', '0', 'us-stopped', 'alw-stopped'])).code, 0);
  const pid = (await inspect('us')).State.Pid;
  const rebootPid = (await inspect('us-reboot')).State.Pid;
  const rebootId = (await inspect('us-reboot')).Id;

  await d.kill9();
  // A host reboot for `us-reboot`: its monitor and its process die with berthd (no exit file is written).
  const conmons = conmonsUnder(d.execRoot).filter((p) => cmdline(p).includes(rebootId));
  assert.equal(conmons.length, 1);
  process.kill(conmons[0], 'SIGKILL');
  process.kill(rebootPid, 'SIGKILL');
  await until('the process to die', async () => alive(rebootPid), (a) => !a, 10_000);

  await d.start();
  // Survived the daemon restart untouched (same process).
  const us = await inspect('us');
  assert.equal(us.State.Status, 'running');
  assert.equal(us.State.Pid, pid);
  // Its process died while berthd was down: restarted by the policy.
  const rebooted = await until('us-reboot to run again', () => inspect('us-reboot'), (s) => s.State.Status === 'running' && s.State.Pid !== rebootPid);
  assert.ok(rebooted.State.Pid > 0);
  // Stopped by the user: always comes back at daemon start (dockerd's rule; started in the
  // background after restore), unless-stopped stays stopped.
  await until('alw-stopped to run', () => inspect('alw-stopped'), (s) => s.State.Status === 'running');
  const ps = await docker(d, ['ps', '--format', '{{.Names}}']);
  assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['alw-stopped', 'us', 'us-reboot']);
  assert.equal((await inspect('us-stopped')).State.Status, 'exited');
  assert.equal((await docker(d, ['rm', '-f', 'us', 'us-reboot', 'us-stopped', 'alw-stopped'])).code, 0);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

test('a restart pending in its backoff when berthd is killed happens after berthd restarts', async () => {
  const run = await docker(d, ['run', '-d', '--restart', 'always', '--name', 'flappy', 'busybox', 'sh', '-c', 'exit 1']);
  assert.equal(run.code, 0, run.stderr);
  // After a few restarts the backoff is seconds long: the container is mostly `restarting`.
  const st = await until('a long backoff', () => inspect('flappy'), (s) => s.RestartCount >= 5 && s.State.Status === 'restarting');
  assert.equal(st.State.Restarting, true);
  assert.equal(st.State.Running, true, 'dockerd reports a restarting container as running');
  await d.kill9();
  await d.start();
  await until('more restarts', () => inspect('flappy'), (s) => s.RestartCount > st.RestartCount);
  const rm = await docker(d, ['rm', 'flappy']);
  assert.notEqual(rm.code, 0, 'a restarting container needs -f');
  assert.match(rm.stderr, /You cannot remove a (restarting|running) container/);
  assert.equal((await docker(d, ['rm', '-f', 'flappy'])).code, 0);
  assert.deepEqual(conmonsUnder(d.execRoot), []);
});

test('docker update --restart on a running container applies at its next exit', async () => {
  const run = await docker(d, ['run', '-d', '--name', 'upd', 'busybox', 'sh', '-c', 'sleep 2; exit 4']);
  assert.equal(run.code, 0, run.stderr);
  const up = await docker(d, ['update', '--restart', 'on-failure:1', 'upd']);
  assert.equal(up.code, 0, up.stderr);
  const st = await until('one restart, then exited', () => inspect('upd'), (s) => s.RestartCount === 1 && s.State.Status === 'exited', 90_000);
  assert.deepEqual(st.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 1 });
  assert.equal(st.State.ExitCode, 4);
  const rm = await docker(d, ['rm', 'upd']);
  assert.equal(rm.code, 0, rm.stderr);
});
