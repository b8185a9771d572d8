// docker commit / diff against a real berthd (issue 3, part B acceptance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';

const daemon = useDaemon();

test('docker diff lists added, changed and deleted paths from the upper dir', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '--name', 'differ', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo x > /data/sub/f && echo changed >> /etc/passwd && rm /etc/group']);
  assert.equal(run.code, 0, run.stderr);
  const diff = await docker(d, ['diff', 'differ']);
  assert.equal(diff.code, 0, diff.stderr);
  const lines = diff.stdout.trim().split('\n');
  assert.ok(lines.includes('A /data'), diff.stdout);
  assert.ok(lines.includes('A /data/sub'), diff.stdout);
  assert.ok(lines.includes('A /data/sub/f'), diff.stdout);
  assert.ok(lines.includes('C /etc/passwd'), diff.stdout);
  assert.ok(lines.includes('D /etc/group'), diff.stdout);
  assert.ok(lines.includes('C /etc'), diff.stdout);
  // runc's mount-point placeholders are not changes (dockerd hides them in its init layer).
  assert.ok(!lines.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l)), diff.stdout);
  const api = await d.api('GET', '/containers/differ/changes');
  assert.equal(api.status, 200);
  assert.deepEqual(api.json<Array<{ Path: string; Kind: number }>>().find((c) => c.Path === '/data/sub/f'), { Path: '/data/sub/f', Kind: 1 });
  const b = await berth(d, ['diff', 'differ']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, diff.stdout);
  const missing = await docker(d, ['diff', 'nosuchcontainer']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such container: nosuchcontainer/);
  await docker(d, ['rm', 'differ']);
});

test('docker commit then docker run of the committed image sees the change; changes and message apply', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '--name', 'committer', 'busybox', 'sh', '-c', 'echo committed-content > /hello.txt && rm /etc/group']);
  assert.equal(run.code, 0, run.stderr);
  const since = Math.floor(Date.now() / 1000) - 1;
  const commit = await docker(d, ['commit', '-a', 'tester', '-m', 'a message', '-c', 'ENV FOO=bar', '-c', 'CMD ["cat", "/hello.txt"]', 'committer', 'committed:v1']);
  assert.equal(commit.code, 0, commit.stderr + d.logs.slice(-3000));
  assert.match(commit.stdout.trim(), /^sha256:[a-f0-9]{64}$/);

  const out = await docker(d, ['run', '--rm', 'committed:v1']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'committed-content\n');
  const env = await docker(d, ['run', '--rm', 'committed:v1', 'sh', '-c', 'echo $FOO; test -e /etc/group && echo present || echo gone']);
  assert.equal(env.stdout, 'bar\ngone\n');

  const inspect = await docker(d, ['image', 'inspect', '--format', '{{.Author}}|{{.Comment}}|{{len .RootFS.Layers}}|{{.Parent}}', 'committed:v1']);
  assert.equal(inspect.code, 0, inspect.stderr);
  const [author, comment, layers] = inspect.stdout.trim().split('|');
  assert.equal(author, 'tester');
  assert.equal(comment, 'a message');
  assert.equal(layers, '2');
  const history = await docker(d, ['history', '--no-trunc', '--format', '{{.Comment}}', 'committed:v1']);
  assert.equal(history.stdout.split('\n')[0], 'a message');

  // Replay (until = now) instead of following: the stream ends by itself.
  const ev = await d.api('GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent(JSON.stringify({ event: ['commit'] }))}`);
  assert.match(ev.body, /"Action":"commit"/);

  // berth commit does the same through the typed client.
  const b = await berth(d, ['commit', '--change', 'LABEL made=by-berth', 'committer', 'committed:v2']);
  assert.equal(b.code, 0, b.stderr);
  const label = await docker(d, ['image', 'inspect', '--format', '{{index .Config.Labels "made"}}', 'committed:v2']);
  assert.equal(label.stdout.trim(), 'by-berth');

  const bad = await docker(d, ['commit', '-c', 'RUN echo no', 'committer', 'committed:v3']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not a valid change command/);
  await docker(d, ['rm', 'committer']);
});

test('commit of a running container copies its layer and leaves it running', async () => {
  const d = daemon();
  const run = await docker(d, ['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /live.txt; sleep 60']);
  assert.equal(run.code, 0, run.stderr);
  let ok = false;
  for (let i = 0; i < 100 && !ok; i++) {
    ok = (await docker(d, ['diff', 'live'])).stdout.includes('A /live.txt');
    if (!ok) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(ok, 'the container wrote its file');
  const since = Math.floor(Date.now() / 1000) - 1;
  const commit = await docker(d, ['commit', 'live', 'live:snap']);
  assert.equal(commit.code, 0, commit.stderr + d.logs.slice(-2000));
  const state = await docker(d, ['inspect', '--format', '{{.State.Status}}', 'live']);
  assert.equal(state.stdout.trim(), 'running', 'frozen for the commit, thawed after');
  const unpaused = await docker(d, ['commit', '--pause=false', 'live', 'live:nopause']);
  assert.equal(unpaused.code, 0, unpaused.stderr);
  const ev = await d.api('GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent(JSON.stringify({ container: ['live'] }))}`);
  assert.equal((ev.body.match(/"Action":"commit"/g) ?? []).length, 2);
  const out = await docker(d, ['run', '--rm', 'live:snap', 'cat', '/live.txt']);
  assert.equal(out.stdout, 'live\n');
  await docker(d, ['rm', '-f', 'live']);
});
