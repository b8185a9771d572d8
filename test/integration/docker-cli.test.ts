// The real docker CLI 28 against a real berthd (issue 2 acceptance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();

test('docker version negotiates with berthd', async () => {
  const r = await docker(daemon(), ['version', '--format', '{{.Server.APIVersion}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.trim(), /^1\.\d+$/);
});

test('docker run --rm busybox echo hello prints hello', async () => {
  const r = await docker(daemon(), ['run', '--rm', 'busybox', 'echo', 'hello']);
  assert.equal(r.code, 0, r.stderr + daemon().logs.slice(-2000));
  assert.equal(r.stdout, 'hello\n');
  const ps = await daemon().api('GET', '/containers/json?all=1');
  assert.deepEqual(ps.json(), [], 'the --rm container is gone');
});

test('exit codes propagate: sh -c "exit 3" exits 3', async () => {
  const r = await docker(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
});

test('stdout and stderr are kept apart', async () => {
  const r = await docker(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('detached container: ps, logs, stop, rm', async () => {
  const run = await docker(daemon(), ['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; echo started; sleep 60 & wait']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = await docker(daemon(), ['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^web Up /m);
  // The log line may take a moment to be written by the container.
  let logs = '';
  for (let i = 0; i < 50 && !logs.includes('started'); i++) {
    logs = (await docker(daemon(), ['logs', 'web'])).stdout;
    if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(logs, 'started\n');
  const stop = await docker(daemon(), ['stop', '-t', '1', 'web']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'web');
  const inspect = await docker(daemon(), ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'web']);
  assert.equal(inspect.stdout.trim(), 'exited 143');
  const rm = await docker(daemon(), ['rm', 'web']);
  assert.equal(rm.code, 0, rm.stderr);
  const after = await docker(daemon(), ['ps', '-a', '-q']);
  assert.equal(after.stdout.trim(), '');
});

test('memory limit is a real cgroup limit', async () => {
  const r = await docker(daemon(), ['run', '--rm', '-m', '64m', 'busybox', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '67108864');
});

test('PID 1 is the command and the hostname is the short container ID', async () => {
  const r = await docker(daemon(), ['run', '--name', 'pid1', 'busybox', 'sh', '-c', 'echo $$; hostname; cat /proc/1/cmdline | tr "\\0" " "']);
  assert.equal(r.code, 0, r.stderr);
  const [pid, hostname, cmdline] = r.stdout.split('\n');
  const id = (await docker(daemon(), ['inspect', '--format', '{{.Id}}', 'pid1'])).stdout.trim();
  assert.equal(pid, '1');
  assert.equal(hostname, id.slice(0, 12));
  assert.match(cmdline, /^sh -c /);
  assert.equal((await docker(daemon(), ['rm', 'pid1'])).code, 0);
});

test('env, workdir, user and entrypoint', async () => {
  const r = await docker(daemon(), ['run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '65534', '--entrypoint', 'sh', 'busybox', '-c', 'echo $FOO $(pwd) $(id -u)']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'bar /tmp 65534\n');
});

test('a missing command fails like docker (127)', async () => {
  const r = await docker(daemon(), ['run', '--rm', 'busybox', 'nosuchcommand']);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /executable file not found/);
});

test('piped stdin reaches the container (run -i)', async () => {
  const r = await docker(daemon(), ['run', '--rm', '-i', 'busybox', 'cat'], { input: 'through stdin\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'through stdin\n');
});

test('images, tag, rmi and inspect', async () => {
  const images = await docker(daemon(), ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(images.code, 0, images.stderr);
  assert.match(images.stdout, /^busybox:latest$/m);
  assert.equal((await docker(daemon(), ['tag', 'busybox', 'mybox:v1'])).code, 0);
  const ins = await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}} {{index .RepoTags 0}}', 'mybox:v1']);
  assert.equal(ins.code, 0, ins.stderr);
  assert.match(ins.stdout, /^sha256:[a-f0-9]{64} /);
  const rmi = await docker(daemon(), ['rmi', 'mybox:v1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: mybox:v1/);
});

test('network modes: default is the bridge (lo + eth0), none is loopback-only; host shares the host\'s', async () => {
  const def = await docker(daemon(), ['run', '--rm', 'busybox', 'ip', '-o', 'link']);
  assert.equal(def.code, 0, def.stderr);
  assert.deepEqual(def.stdout.trim().split('\n').map((l) => l.split(':')[1].trim().split('@')[0]), ['lo', 'eth0']);
  assert.match(def.stdout, /LOOPBACK,UP/);
  const none = await docker(daemon(), ['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
  assert.deepEqual(none.stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
  const { readdirSync: listLinks } = await import('node:fs');
  const linksBefore = listLinks('/sys/class/net').length; // other daemons may add links meanwhile
  const host = await docker(daemon(), ['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ip -o link | wc -l; hostname']);
  const linksAfter = listLinks('/sys/class/net').length;
  assert.equal(host.code, 0, host.stderr);
  const [links, name] = host.stdout.trim().split('\n');
  const { hostname } = await import('node:os');
  assert.ok(Number(links) >= Math.min(linksBefore, linksAfter) - 2 && Number(links) <= Math.max(linksBefore, linksAfter) + 2, `${links} links vs ${linksBefore}..${linksAfter} on the host`);
  assert.equal(name, hostname());
});

test('events: docker events --since/--until replays a run', async () => {
  const since = (Date.now() / 1000).toFixed(9);
  assert.equal((await docker(daemon(), ['run', '--rm', '--name', 'evt', 'busybox', 'true'])).code, 0);
  const until = (Date.now() / 1000 + 0.001).toFixed(9);
  const r = await docker(daemon(), ['events', '--since', since, '--until', until, '--filter', 'container=evt', '--format', '{{.Action}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['create', 'start', 'die', 'destroy']);
});
