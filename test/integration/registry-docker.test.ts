// Issue 5 acceptance: the real docker CLI against berthd pushes busybox to `berth registry serve`
// on 127.0.0.1, removes the local image, pulls it back by tag and by digest, and runs it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';

const daemon = useDaemon();
const registry = new TestRegistry();
before(() => registry.start());
after(() => registry.cleanup());

let digest = '';

test('docker push busybox to berth registry on 127.0.0.1', async () => {
  const name = `${registry.host}/test/busybox:v1`;
  assert.equal((await docker(daemon(), ['tag', 'busybox', name])).code, 0);
  const r = await docker(daemon(), ['push', name], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr + daemon().logs.slice(-2000));
  assert.match(r.stdout, new RegExp(`The push refers to repository \\[${registry.host}/test/busybox\\]`));
  assert.match(r.stdout, /: Pushed\n/);
  const m = /v1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(r.stdout);
  assert.ok(m, r.stdout);
  digest = m[1];
  // the registry has it: tags list and the manifest by digest
  const tags = (await (await fetch(`${registry.url}/v2/test/busybox/tags/list`)).json()) as { tags: string[] };
  assert.deepEqual(tags.tags, ['v1']);
  const head = await fetch(`${registry.url}/v2/test/busybox/manifests/v1`, { method: 'HEAD' });
  assert.equal(head.headers.get('docker-content-digest'), digest);
  // a second push finds every layer there
  const again = await docker(daemon(), ['push', name]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Layer already exists/);
});

test('remove the local image, pull it back by tag, run it', async () => {
  const id = (await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout.trim();
  const rmi = await docker(daemon(), ['rmi', '-f', id]);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.equal((await docker(daemon(), ['images', '-q'])).stdout, '');

  const name = `${registry.host}/test/busybox:v1`;
  const pull = await docker(daemon(), ['pull', name], { timeoutMs: 60_000 });
  assert.equal(pull.code, 0, pull.stderr + daemon().logs.slice(-2000));
  assert.match(pull.stdout, /v1: Pulling from test\/busybox/);
  assert.match(pull.stdout, /Pull complete/);
  assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${registry.host}/test/busybox:v1`));
  const inspect = await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', name]);
  assert.equal(inspect.stdout.trim(), `${id} ${JSON.stringify([`${registry.host}/test/busybox@${digest}`])}`, 'same image ID, RepoDigests set');
  const run = await docker(daemon(), ['run', '--rm', name, 'echo', 'pulled by tag']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'pulled by tag\n');
  // pulled again: up to date
  const again = await docker(daemon(), ['pull', name]);
  assert.match(again.stdout, /Image is up to date/);
});

test('pull by digest after removal, run it by digest', async () => {
  const name = `${registry.host}/test/busybox`;
  assert.equal((await docker(daemon(), ['rmi', '-f', `${name}:v1`])).code, 0);
  const ref = `${name}@${digest}`;
  const pull = await docker(daemon(), ['pull', ref], { timeoutMs: 60_000 });
  assert.equal(pull.code, 0, pull.stderr + daemon().logs.slice(-2000));
  assert.match(pull.stdout, /Pull complete/);
  const run = await docker(daemon(), ['run', '--rm', ref, 'echo', 'pulled by digest']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'pulled by digest\n');
  const ls = await docker(daemon(), ['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}']);
  assert.equal(ls.stdout.trim(), `${name} <none> ${digest}`);
});

test('berth pull and push with progress lines; a missing tag is a clean 404', async () => {
  const r = await berth(daemon(), ['pull', `${registry.host}/test/busybox:v1`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Status: (Downloaded newer image|Image is up to date) for/);
  const missing = await docker(daemon(), ['pull', `${registry.host}/test/busybox:nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /manifest for .*test\/busybox:nope not found: manifest unknown/);
  const pushMissing = await docker(daemon(), ['push', `${registry.host}/test/other:v1`]);
  assert.equal(pushMissing.code, 1);
  assert.match(pushMissing.stderr, /An image does not exist locally with the tag: .*test\/other/);
});

test('docker pull -a pulls every tag of the repository', async () => {
  const repo = `${registry.host}/test/tags`;
  for (const t of ['a', 'b']) assert.equal((await docker(daemon(), ['tag', `${registry.host}/test/busybox:v1`, `${repo}:${t}`])).code, 0);
  for (const t of ['a', 'b']) assert.equal((await docker(daemon(), ['push', `${repo}:${t}`])).code, 0);
  assert.equal((await docker(daemon(), ['rmi', `${repo}:a`, `${repo}:b`])).code, 0);
  const r = await docker(daemon(), ['pull', '-a', repo]);
  assert.equal(r.code, 0, r.stderr + daemon().logs.slice(-2000));
  const ls = await docker(daemon(), ['images', '--format', '{{.Tag}}', repo]);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['a', 'b']);
  const b = await berth(daemon(), ['pull', '-a', `${repo}:a`]);
  assert.equal(b.code, 1);
});

test('docker.io references keep Docker naming and fail fast without a mirror', async () => {
  const r = await docker(daemon(), ['pull', 'busybox:1.36']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot pull from docker\.io: .*registry mirror/);
  const run = await docker(daemon(), ['run', '--rm', 'alpine:3', 'true']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /Unable to find image 'alpine:3' locally/);
  assert.match(run.stderr, /cannot pull from docker\.io/);
});
