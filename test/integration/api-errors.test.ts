// Bad input gets a clear 4xx with {"message"} and leaves nothing behind (issue 2 acceptance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useDaemon, leakedMounts, cgroupDirs, listDir, conmonsUnder } from '../helpers/daemon.ts';

const daemon = useDaemon();

/** Nothing made: no container rows, dirs, bundles, active snapshots, mounts or cgroups. */
async function assertNothingMade(): Promise<void> {
  const ps = await daemon().api('GET', '/containers/json?all=1');
  assert.deepEqual(ps.json(), []);
  assert.deepEqual(listDir(join(daemon().dataRoot, 'containers')), []);
  assert.deepEqual(listDir(join(daemon().execRoot, 'containers')), []);
  // Nor any runtime state: monitor directories, exit files, attach sockets, runc's state.
  for (const d of ['conmon', 'exits', 'socket', 'runc']) assert.deepEqual(listDir(join(daemon().execRoot, d)), [], d);
  assert.deepEqual(conmonsUnder(daemon().execRoot), []);
  assert.deepEqual(leakedMounts(daemon().dir), []);
  // Container cgroups (one level below the parent) are gone.
  assert.deepEqual(cgroupDirs(daemon().cgroupParent).filter((p) => p.split('/').length > 6), []);
  // Only the busybox layer is left in the snapshot store.
  assert.equal(listDir(join(daemon().dataRoot, 'snapshots')).filter((n) => !n.startsWith('.')).length, 1);
}

function assertError(r: { status: number; headers: Record<string, unknown>; body: string }, status: number, message: RegExp): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  const body = JSON.parse(r.body) as { message: string };
  assert.match(body.message, message);
}

test('unversioned and versioned paths; ping headers', async () => {
  const ping = await daemon().api('HEAD', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.headers['api-version'], '1.47');
  assert.equal(ping.headers['ostype'], 'linux');
  assert.equal(ping.headers['builder-version'], '1');
  const v = await daemon().api('GET', '/v1.41/version');
  assert.equal(v.status, 200);
  assert.equal(v.json<{ ApiVersion: string }>().ApiVersion, '1.47');
  assertError(await daemon().api('GET', '/v1.99/version'), 400, /client version 1.99 is too new/);
  assertError(await daemon().api('GET', '/v1.41/nonsense'), 404, /page not found/);
});

test('malformed JSON → 400', async () => {
  assertError(await daemon().api('POST', '/containers/create', '{"Image": "busybox",', { 'Content-Type': 'application/json' }), 400, /invalid JSON/);
  await assertNothingMade();
});

test('unknown image → 404 No such image', async () => {
  assertError(await daemon().api('POST', '/containers/create', { Image: 'nosuchimage:v9' }), 404, /^No such image: nosuchimage:v9$/);
  await assertNothingMade();
});

test('invalid memory → 400', async () => {
  assertError(await daemon().api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Memory: 1024 } }), 400, /Minimum memory limit allowed is 6MB/);
  assertError(await daemon().api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Memory: 'lots' } }), 400, /invalid Memory/);
  await assertNothingMade();
});

test('invalid name → 400; name in use → 409', async () => {
  assertError(await daemon().api('POST', '/containers/create?name=a', { Image: 'busybox' }), 400, /Invalid container name/);
  const ok = await daemon().api('POST', '/containers/create?name=taken', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(ok.status, 201, ok.body);
  const id = ok.json<{ Id: string }>().Id;
  assertError(await daemon().api('POST', '/containers/create?name=taken', { Image: 'busybox' }), 409, /Conflict. The container name "\/taken" is already in use by container/);
  assert.equal((await daemon().api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingMade();
});

test('a start failure leaves no mount, bundle or cgroup', async () => {
  const c = await daemon().api('POST', '/containers/create?name=badcmd', { Image: 'busybox', Cmd: ['/no/such/binary'] });
  assert.equal(c.status, 201);
  const id = c.json<{ Id: string }>().Id;
  const s = await daemon().api('POST', `/containers/${id}/start`);
  assert.equal(s.status, 400, s.body);
  assert.deepEqual(leakedMounts(daemon().dir), []);
  assert.deepEqual(listDir(join(daemon().execRoot, 'containers')), []);
  // the runtime's failed create left no monitor directory behind either
  assert.deepEqual(listDir(join(daemon().execRoot, 'conmon')), []);
  const ins = (await daemon().api('GET', `/containers/${id}/json`)).json<{ State: { ExitCode: number; Error: string } }>();
  assert.equal(ins.State.ExitCode, 127);
  assert.equal((await daemon().api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingMade();
});

test('a start that fails before the runtime runs (unknown user) leaves no monitor, mount or bundle', async () => {
  // The monitor is spawned while the rootfs is mounted and the spec built; a failure there kills it.
  const c = await daemon().api('POST', '/containers/create?name=baduser', { Image: 'busybox', Cmd: ['true'], User: 'nosuchuser' });
  assert.equal(c.status, 201, c.body);
  const id = c.json<{ Id: string }>().Id;
  assertError(await daemon().api('POST', `/containers/${id}/start`), 400, /unable to find user nosuchuser/);
  assert.deepEqual(conmonsUnder(daemon().execRoot), []);
  assert.deepEqual(listDir(join(daemon().execRoot, 'conmon')), []);
  assert.deepEqual(leakedMounts(daemon().dir), []);
  assert.deepEqual(listDir(join(daemon().execRoot, 'containers')), []);
  assert.equal((await daemon().api('DELETE', `/containers/${id}`)).status, 204);
  await assertNothingMade();
});

test('unknown container → 404; stop of a stopped one → 304; kill → 409', async () => {
  assertError(await daemon().api('GET', '/containers/nosuch/json'), 404, /^No such container: nosuch$/);
  const c = await daemon().api('POST', '/containers/create?name=idle', { Image: 'busybox', Cmd: ['true'] });
  const id = c.json<{ Id: string }>().Id;
  assert.equal((await daemon().api('POST', `/containers/${id}/stop`)).status, 304);
  assertError(await daemon().api('POST', `/containers/${id}/kill`), 409, /is not running/);
  assert.equal((await daemon().api('DELETE', `/containers/${id}`)).status, 204);
});

test('removing a running container needs force; an image in use cannot be removed', async () => {
  const c = await daemon().api('POST', '/containers/create?name=busy', { Image: 'busybox', Cmd: ['sleep', '60'] });
  const id = c.json<{ Id: string }>().Id;
  assert.equal((await daemon().api('POST', `/containers/${id}/start`)).status, 204);
  assertError(await daemon().api('DELETE', `/containers/${id}`), 409, /You cannot remove a running container/);
  assertError(await daemon().api('DELETE', '/images/busybox:latest'), 409, /conflict/);
  assert.equal((await daemon().api('DELETE', `/containers/${id}?force=1`)).status, 204);
  await assertNothingMade();
});

test('an attach waiting for a start ends when the start fails', async () => {
  const { connect } = await import('node:net');
  const d = daemon();
  const c = await d.api('POST', '/containers/create?name=attachfail', { Image: 'busybox', Cmd: ['/no/such/binary'], AttachStdout: true, AttachStderr: true });
  const id = c.json<{ Id: string }>().Id;
  const sock = connect({ path: d.socket, allowHalfOpen: true });
  const closed = new Promise<string>((resolve) => {
    let text = '';
    sock.on('data', (b: Buffer) => (text += b.toString('latin1')));
    sock.on('end', () => resolve(text));
  });
  sock.write(`POST /containers/${id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await d.api('POST', `/containers/${id}/start`)).status, 400);
  const text = await Promise.race([closed, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('attach did not end')), 5000))]);
  assert.match(text, /^HTTP\/1.1 101 UPGRADED/);
  sock.destroy();
  assert.equal((await d.api('DELETE', `/containers/${id}`)).status, 204);
});
