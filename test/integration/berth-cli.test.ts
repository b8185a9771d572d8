// The same flows through berth's own CLI (issue 2 acceptance).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, berth } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = new TestDaemon();
  await d.start();
  await d.importBusybox();
});
after(async () => {
  await d?.cleanup();
});

test('berth run --rm busybox echo hello prints hello', async () => {
  const r = await berth(d, ['run', '--rm', 'busybox', 'echo', 'hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
});

test('berth run exit codes propagate', async () => {
  const r = await berth(d, ['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
});

test('berth: detached container, ps, logs, stop, rm', async () => {
  const run = await berth(d, ['run', '-d', '--name', 'web', '-l', 'tier=front', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 60 & wait']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await berth(d, ['ps']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+.*Up .*\\s+web$`, 'm'));
  const filtered = await berth(d, ['ps', '-q', '--filter', 'label=tier=front']);
  assert.equal(filtered.stdout.trim(), id.slice(0, 12));
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('started'); i++) {
    logs = (await berth(d, ['logs', 'web'])).stdout;
    if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs, 'started\n');
  const stop = await berth(d, ['stop', '-t', '1', 'web']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'web');
  const st = await berth(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'web']);
  assert.equal(st.stdout.trim(), 'exited 143');
  assert.equal((await berth(d, ['rm', 'web'])).code, 0);
  assert.equal((await berth(d, ['ps', '-aq'])).stdout.trim(), '');
});

test('berth: memory limit, PID 1 and hostname', async () => {
  const mem = await berth(d, ['run', '--rm', '-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
  assert.equal(mem.code, 0, mem.stderr);
  assert.equal(mem.stdout.trim(), '67108864');
  const r = await berth(d, ['run', '--name', 'who', 'busybox', 'sh', '-c', 'echo $$; hostname']);
  assert.equal(r.code, 0, r.stderr);
  const id = (await berth(d, ['inspect', '-f', '{{.Id}}', 'who'])).stdout.trim();
  assert.equal(r.stdout, `1\n${id.slice(0, 12)}\n`);
  assert.equal((await berth(d, ['rm', 'who'])).code, 0);
});

test('berth: bad input fails with a one-line reason', async () => {
  const img = await berth(d, ['run', '--rm', 'nosuchimage']);
  assert.equal(img.code, 125);
  assert.match(img.stderr, /No such image|Unable to find image/);
  const mem = await berth(d, ['run', '--rm', '-m', 'lots', 'busybox', 'true']);
  assert.equal(mem.code, 125);
  assert.match(mem.stderr, /invalid/i);
  assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
});

test('berth: images, tag, rmi, import, version, info, rename, restart, kill, wait', async () => {
  const images = await berth(d, ['images']);
  assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
  assert.match(images.stdout, /^busybox\s+latest\s+[a-f0-9]{12}\s/m);
  assert.equal((await berth(d, ['tag', 'busybox', 'other:v2'])).code, 0);
  assert.match((await berth(d, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, /^other:v2$/m);
  const rmi = await berth(d, ['rmi', 'other:v2']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: other:v2/);
  const v = await berth(d, ['version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Server/);
  const info = await berth(d, ['info', '--format', '{{.Driver}}']);
  assert.equal(info.stdout.trim(), 'overlay2');

  assert.equal((await berth(d, ['run', '-d', '--name', 'r1', 'busybox', 'sleep', '60'])).code, 0);
  assert.equal((await berth(d, ['rename', 'r1', 'r2'])).code, 0);
  assert.equal((await berth(d, ['restart', '-t', '0', 'r2'])).code, 0);
  assert.match((await berth(d, ['inspect', '-f', '{{.State.Status}}', 'r2'])).stdout, /running/);
  assert.equal((await berth(d, ['kill', 'r2'])).code, 0);
  const w = await berth(d, ['wait', 'r2']);
  assert.equal(w.stdout.trim(), '137');
  assert.equal((await berth(d, ['rm', 'r2'])).code, 0);
});
