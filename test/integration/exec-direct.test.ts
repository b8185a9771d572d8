// Non-TTY exec runs `runc exec` as berthd's child without conmon (issue 3 performance): exit codes
// of signals, large output, and what happens to a running exec when its container stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { useDaemon, docker, runCli } from '../helpers/daemon.ts';

const daemon = useDaemon();

async function until<T>(what: string, get: () => Promise<T> | T, pred: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** This daemon's exec pid files in /dev/shm (used when the exec root is on a disk filesystem). */
function shmPidFiles(): string[] {
  const prefix = `berth-exec-${createHash('sha256').update(daemon().execRoot).digest('hex').slice(0, 12)}-`;
  return readdirSync('/dev/shm').filter((n) => n.includes(prefix));
}

/** Host processes whose command line mentions `needle` (e.g. a runc exec for an exec ID). */
function procsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

test('docker exec: exit by signal is 128+n, large output arrives whole, stdout and stderr apart', async () => {
  const r = await docker(daemon(), ['run', '-d', '--name', 'sig', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  const term = await docker(daemon(), ['exec', 'sig', 'sh', '-c', 'kill -TERM $$']);
  assert.equal(term.code, 143, term.stderr);
  const big = await docker(daemon(), ['exec', 'sig', 'sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" a; echo; echo done >&2']);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout.length, 1_000_001);
  assert.match(big.stdout, /^a+\n$/);
  assert.equal(big.stderr, 'done\n');
  // Nothing of the execs is left on disk.
  await until('exec files removed', () => readdirSync(join(daemon().execRoot, 'execs')), (names) => names.length === 0);
  await until('pid files removed', () => shmPidFiles(), (names) => names.length === 0);
  assert.equal((await docker(daemon(), ['rm', '-f', 'sig'])).code, 0);
});

test('a running non-TTY exec is killed and reaped when its container stops; exit code and exec_die follow', async () => {
  const r = await docker(daemon(), ['run', '-d', '--name', 'stopme', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  const since = Math.floor(Date.now() / 1000) - 1;
  // An attached exec through the real CLI, left running.
  const running = runCli('docker', ['exec', 'stopme', 'sh', '-c', 'echo started; exec sleep 1000'], { env: daemon().env(), timeoutMs: 120_000 });
  const execIds = await until(
    'the exec to run',
    async () => (await daemon().api('GET', '/containers/stopme/json')).json<{ ExecIDs: string[] | null }>().ExecIDs ?? [],
    (ids) => ids.length === 1,
  );
  const execId = execIds[0];
  const info = await until(
    'the exec pid',
    async () => (await daemon().api('GET', `/exec/${execId}/json`)).json<{ Pid: number; Running: boolean }>(),
    (i) => i.Running && i.Pid > 0,
  );
  assert.ok(existsSync(`/proc/${info.Pid}`), 'the exec process runs on the host');
  assert.ok(procsMentioning(execId).length > 0, 'runc exec runs for it');

  const stop = await docker(daemon(), ['stop', '-t', '1', 'stopme']);
  assert.equal(stop.code, 0, stop.stderr);
  const res = await running;
  assert.equal(res.stdout, 'started\n');
  // stop signals every process of the container (SIGTERM, then SIGKILL): 143 or 137, as with conmon.
  assert.ok([137, 143].includes(res.code), `exit ${res.code}: ${res.stderr}`);
  const after = (await daemon().api('GET', `/exec/${execId}/json`)).json<{ Running: boolean; ExitCode: number }>();
  assert.equal(after.Running, false);
  assert.equal(after.ExitCode, res.code);
  await until('the exec process to be gone', () => existsSync(`/proc/${info.Pid}`), (alive) => !alive);
  await until('runc exec to be gone', () => procsMentioning(execId), (pids) => pids.length === 0);
  await until('exec files removed', () => readdirSync(join(daemon().execRoot, 'execs')), (names) => names.length === 0);
  await until('pid files removed', () => shmPidFiles(), (names) => names.length === 0);

  const until_ = Math.ceil(Date.now() / 1000) + 1;
  const ev = await daemon().api('GET', `/events?since=${since}&until=${until_}`);
  const actions = ev.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } })
    .filter((e) => e.Actor.Attributes.execID === execId);
  assert.deepEqual(
    actions.map((e) => e.Action),
    ['exec_create: sh -c echo started; exec sleep 1000', 'exec_start: sh -c echo started; exec sleep 1000', 'exec_die'],
  );
  assert.equal(actions[2].Actor.Attributes.exitCode, String(res.code));
  assert.equal((await docker(daemon(), ['rm', 'stopme'])).code, 0);
});

test('an exec started later than right after its create resolves its user at start (a user added in between is found)', async () => {
  const r = await docker(daemon(), ['run', '-d', '--name', 'late', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  const created = await daemon().api('POST', '/containers/late/exec', { Cmd: ['id', '-u'], User: 'newbie', AttachStdout: true, AttachStderr: true });
  assert.equal(created.status, 201, created.body);
  const id = created.json<{ Id: string }>().Id;
  const add = await docker(daemon(), ['exec', 'late', 'sh', '-c', 'echo newbie:x:4242:4242::/tmp:/bin/sh >> /etc/passwd']);
  assert.equal(add.code, 0, add.stderr);
  await new Promise((res) => setTimeout(res, 1200)); // past the window in which the create's spec is reused
  const start = await daemon().api('POST', `/exec/${id}/start`, { Detach: true, Tty: false });
  assert.equal(start.status, 200, start.body);
  const info = await until(
    'the exec to end',
    async () => (await daemon().api('GET', `/exec/${id}/json`)).json<{ ExitCode: number | null }>(),
    (i) => i.ExitCode !== null,
  );
  assert.equal(info.ExitCode, 0);
  assert.equal((await docker(daemon(), ['rm', '-f', 'late'])).code, 0);
});
