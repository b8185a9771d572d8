// Bad input gets a clear 4xx with {"message"} and leaves nothing behind (issue 2 acceptance).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, leakedMounts, cgroupDirs } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = new TestDaemon();
  await d.start();
  await d.importBusybox();
});
after(async () => {
  await d?.cleanup();
});

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Nothing made: no container rows, dirs, bundles, active snapshots, mounts or cgroups. */
async function assertNothingMade(): Promise<void> {
  const ps = await d.api('GET', '/containers/json?all=1');
  assert.deepEqual(ps.json(), []);
  assert.deepEqual(list(join(d.dataRoot, 'containers')), []);
  assert.deepEqual(list(join(d.execRoot, 'containers')), []);
  assert.deepEqual(leakedMounts(d.dir), []);
  // Container cgroups (one level below the parent) are gone.
  assert.deepEqual(cgroupDirs(d.cgroupParent).filter((p) => p.split('/').length > 6), []);
  // Only the busybox layer is left in the snapshot store.
  assert.equal(list(join(d.dataRoot, 'snapshots')).filter((n) => !n.startsWith('.')).length, 1);
}

function assertError(r: { status: number; headers: Record<string, unknown>; body: string }, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  const body = JSON.parse(r.body) as { message: string };
  assert.match(body.message, message);
}

test('unversioned and versioned paths; ping headers', async () => {
  const ping = await d.api('HEAD', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.headers['api-version'], '1.47');
  assert.equal(ping.headers['ostype'], 'linux');
  assert.equal(ping.headers['builder-version'], '1');
  const v = await d.api('GET', '/v1.41/version');
  assert.equal(v.status, 200);
  assert.equal(v.json<{ ApiVersion: string }>().ApiVersion, '1.47');
  assertError(await d.api('GET', '/v1.99/version'), 400, /client version 1.99 is too new/);
  assertError(await d.api('GET', '/v1.41/nonsense'), 404, /page not found/);
});

test('malformed JSON → 400', async () => {
  assertError(await d.api('POST', '/containers/create', '{"Image": "busybox",', { 'Content-Type': 'application/json' }), 400, /invalid JSON/);
  await assertNothingMade();
});

test('unknown image → 404 No such image', async () => {
  assertError(await d.api('POST', '/containers/create', { Image: 'nosuchimage:v9' }), 404, /^No such image: nosuchimage:v9$/);
  await assertNothingMade();
});

test('invalid memory → 400', async () => {
  assertError(await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Memory: 1024 } }), 400, /Minimum memory limit allowed is 6MB/);
  assertError(await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Memory: 'lots' } }), 400, /invalid Memory/);
  await assertNothingMade();
});

test('invalid name → 400; name in use → 409', async () => {
  assertError(await d.api('POST', '/containers/create?name=a', { Image: 'busybox' }), 400, /Invalid container name/);
  const ok = await d.api('POST', '/containers/create?name=taken', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(ok.status, 201, ok.body);
  const id = ok.json<{ Id: string }>().Id;
  assertError(await d.api('POST', '/containers/create?name=taken', { Image: 'busybox' }), 409, /Conflict. The container name "\/taken" is already in use by container/);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingMade();
});

test('a start failure leaves no mount, bundle or cgroup', async () => {
  const c = await d.api('POST', '/containers/create?name=badcmd', { Image: 'busybox', Cmd: ['/no/such/binary'] });
  assert.equal(c.status, 201);
  const id = c.json<{ Id: string }>().Id;
  const s = await d.api('POST', `/containers/${id}/start`);
  assert.equal(s.status, 400, s.body);
  assert.deepEqual(leakedMounts(d.dir), []);
  assert.deepEqual(list(join(d.execRoot, 'containers')), []);
  const ins = (await d.api('GET', `/containers/${id}/json`)).json<{ State: { ExitCode: number; Error: string } }>();
  assert.equal(ins.State.ExitCode, 127);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingMade();
});

test('unknown container → 404; stop of a stopped one → 304; kill → 409', async () => {
  assertError(await d.api('GET', '/containers/nosuch/json'), 404, /^No such container: nosuch$/);
  const c = await d.api('POST', '/containers/create?name=idle', { Image: 'busybox', Cmd: ['true'] });
  const id = c.json<{ Id: string }>().Id;
  assert.equal((await d.api('POST', `/containers/${id}/stop`)).status, 304);
  assertError(await d.api('POST', `/containers/${id}/kill`), 409, /is not running/);
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
});

test('removing a running container needs force; an image in use cannot be removed', async () => {
  const c = await d.api('POST', '/containers/create?name=busy', { Image: 'busybox', Cmd: ['sleep', '60'] });
  const id = c.json<{ Id: string }>().Id;
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 204);
  assertError(await d.api('DELETE', `/containers/${id}`), 409, /You cannot remove a running container/);
  assertError(await d.api('DELETE', '/images/busybox:latest'), 409, /conflict/);
  assert.equal((await d.api('DELETE', `/containers/${id}?force=1`)).status, 204);
  await assertNothingMade();
});
