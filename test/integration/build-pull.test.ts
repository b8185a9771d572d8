// FROM an image that is only on a registry (berth registry serve on 127.0.0.1): the build pulls it,
// with the docker CLI's credentials from X-Registry-Config; `--pull` pulls even when it is here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';

const daemon = useDaemon();
const registry = new TestRegistry();
before(() => registry.start());
after(() => registry.cleanup());
const work = mkdtempSync(join(tmpdir(), 'berth-build-pull-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

test('FROM a registry image that is not here pulls it; --pull pulls again', async () => {
  const base = `${registry.host}/base/busybox:v1`;
  assert.equal((await docker(daemon(), ['tag', 'busybox', base])).code, 0);
  const push = await docker(daemon(), ['push', base], { timeoutMs: 60_000 });
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await docker(daemon(), ['rmi', base])).code, 0);

  const dir = join(work, 'ctx');
  mkdirSync(dir);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${base}\nRUN echo on a pulled base > /note\n`);
  const r = await docker(daemon(), ['build', '-t', 'pulled:v1', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Pulling from base\/busybox/);
  assert.equal((await docker(daemon(), ['run', '--rm', 'pulled:v1', 'cat', '/note'])).stdout, 'on a pulled base\n');
  assert.equal((await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', base])).code, 0, 'the base is now here');

  const again = await berth(daemon(), ['build', '--pull', '-t', 'pulled:v2', dir], { timeoutMs: 120_000 });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /Using cache/, 'same base digest: the RUN step is still cached');

  const missing = join(work, 'missing');
  mkdirSync(missing);
  writeFileSync(join(missing, 'Dockerfile'), `FROM ${registry.host}/base/nosuch:v1\n`);
  const bad = await docker(daemon(), ['build', missing], { timeoutMs: 60_000 });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /nosuch/);
});
