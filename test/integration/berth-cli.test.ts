// The same flows through berth's own CLI (issue 2 acceptance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, berth } from '../helpers/daemon.ts';

const daemon = useDaemon();

test('berth run --rm busybox echo hello prints hello', async () => {
  const r = await berth(daemon(), ['run', '--rm', 'busybox', 'echo', 'hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  assert.deepEqual((await daemon().api('GET', '/containers/json?all=1')).json(), []);
});

test('berth run exit codes propagate', async () => {
  const r = await berth(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
});

test('berth: detached container, ps, logs, stop, rm', async () => {
  const run = await berth(daemon(), ['run', '-d', '--name', 'web', '-l', 'tier=front', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 60 & wait']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await berth(daemon(), ['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+.*Up .*\\s+web$`, 'm'));
  const filtered = await berth(daemon(), ['ps', '-q', '--filter', 'label=tier=front']);
  assert.equal(filtered.stdout.trim(), id.slice(0, 12));
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('started'); i++) {
    logs = (await berth(daemon(), ['logs', 'web'])).stdout;
    if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs, 'started\n');
  const stop = await berth(daemon(), ['stop', '-t', '1', 'web']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'web');
  const st = await berth(daemon(), ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'web']);
  assert.equal(st.stdout.trim(), 'exited 143');
  assert.equal((await berth(daemon(), ['rm', 'web'])).code, 0);
  assert.equal((await berth(daemon(), ['ps', '-aq'])).stdout.trim(), '');
});

test('berth: memory limit, PID 1 and hostname', async () => {
  const mem = await berth(daemon(), ['run', '--rm', '-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
  assert.equal(mem.code, 0, mem.stderr);
  assert.equal(mem.stdout.trim(), '67108864');
  const r = await berth(daemon(), ['run', '--name', 'who', 'busybox', 'sh', '-c', 'echo $$; hostname']);
  assert.equal(r.code, 0, r.stderr);
  const id = (await berth(daemon(), ['inspect', '-f', '{{.Id}}', 'who'])).stdout.trim();
  assert.equal(r.stdout, `1\n${id.slice(0, 12)}\n`);
  assert.equal((await berth(daemon(), ['rm', 'who'])).code, 0);
});

test('berth: bad input fails with a one-line reason', async () => {
  const img = await berth(daemon(), ['run', '--rm', 'nosuchimage']);
  assert.equal(img.code, 125);
  assert.match(img.stderr, /No such image|Unable to find image/);
  const mem = await berth(daemon(), ['run', '--rm', '-m', 'lots', 'busybox', 'true']);
  assert.equal(mem.code, 125);
  assert.match(mem.stderr, /invalid/i);
  assert.deepEqual((await daemon().api('GET', '/containers/json?all=1')).json(), []);
});

test('berth: images, tag, rmi, import, version, info, rename, restart, kill, wait', async () => {
  const images = await berth(daemon(), ['images']);
  assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
  assert.match(images.stdout, /^busybox\s+latest\s+[a-f0-9]{12}\s/m);
  assert.equal((await berth(daemon(), ['tag', 'busybox', 'other:v2'])).code, 0);
  assert.match((await berth(daemon(), ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, /^other:v2$/m);
  const rmi = await berth(daemon(), ['rmi', 'other:v2']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: other:v2/);
  const v = await berth(daemon(), ['version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Server/);
  const info = await berth(daemon(), ['info', '--format', '{{.Driver}}']);
  assert.equal(info.stdout.trim(), process.env.BERTH_TEST_STORAGE_DRIVER === 'vfs' ? 'vfs' : 'overlay2');

  assert.equal((await berth(daemon(), ['run', '-d', '--name', 'r1', 'busybox', 'sleep', '60'])).code, 0);
  assert.equal((await berth(daemon(), ['rename', 'r1', 'r2'])).code, 0);
  assert.equal((await berth(daemon(), ['restart', '-t', '0', 'r2'])).code, 0);
  assert.match((await berth(daemon(), ['inspect', '-f', '{{.State.Status}}', 'r2'])).stdout, /running/);
  assert.equal((await berth(daemon(), ['kill', 'r2'])).code, 0);
  const w = await berth(daemon(), ['wait', 'r2']);
  assert.equal(w.stdout.trim(), '137');
  assert.equal((await berth(daemon(), ['rm', 'r2'])).code, 0);
});
