// Volumes with the real docker CLI against a real berthd (issue 7 acceptance): named, anonymous,
// bind, tmpfs, --volumes-from, copy-up, local driver options, rm/prune rules, durability.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useDaemon, docker, berth, leakedMounts } from '../helpers/daemon.ts';
import { makeBusyboxRootfsTar } from '../helpers/busybox.ts';

const daemon = useDaemon();
const MTIME = new Date('2024-01-01T00:00:00Z');
let scratch: string;
let setup: Promise<void> | undefined;
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Once per file, after the daemon is up (hooks of one level may interleave). */
function ready(): Promise<void> {
  return (setup ??= makeImage());
}

async function makeImage(): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), 'berth-vol-'));
  // An image with content at /seed (owned by 1000:1000, mode 0750) and VOLUME /data, made with
  // `docker import --change` (build and commit are not needed).
  const tar = await makeBusyboxRootfsTar(join(scratch, 'img.tar'), (pack) => {
    pack.entry({ name: 'seed/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000, mtime: MTIME });
    pack.entry({ name: 'seed/hello.txt', type: 'file', mode: 0o640, uid: 1000, gid: 1000, mtime: MTIME }, 'from the image\n');
    pack.entry({ name: 'seed/sub/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: MTIME });
    pack.entry({ name: 'seed/sub/deep.txt', type: 'file', mode: 0o600, uid: 2000, gid: 3000, mtime: MTIME }, 'deep\n');
    pack.entry({ name: 'data/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: MTIME });
    pack.entry({ name: 'data/preset.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: MTIME }, 'preset\n');
  });
  const r = await docker(daemon(), ['import', '--change', 'VOLUME /data', '--change', 'CMD ["sh"]', tar, 'volimg:latest'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr + daemon().logs.slice(-3000));
}

async function ok(args: string[], input?: string): Promise<string> {
  await ready();
  const r = await docker(daemon(), args, { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

test('volume create, ls, inspect, rm with docker CLI shapes', async () => {
  assert.equal((await ok(['volume', 'create', '--label', 'team=a', 'vcli'])).trim(), 'vcli');
  const v = JSON.parse(await ok(['volume', 'inspect', 'vcli']))[0];
  assert.equal(v.Name, 'vcli');
  assert.equal(v.Driver, 'local');
  assert.equal(v.Scope, 'local');
  assert.deepEqual(v.Labels, { team: 'a' });
  assert.equal(v.Options, null);
  assert.equal(v.Mountpoint, join(daemon().dataRoot, 'volumes', 'vcli', '_data'));
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(statSync(v.Mountpoint).isDirectory());
  const ls = await ok(['volume', 'ls']);
  assert.match(ls, /^DRIVER\s+VOLUME NAME\n/);
  assert.match(ls, /^local\s+vcli$/m);
  assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).trim(), 'vcli');
  assert.equal((await ok(['volume', 'ls', '-q', '--filter', 'label=team=b'])).trim(), '');
  assert.match(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true']), /^vcli$/m);
  assert.match(await ok(['volume', 'ls', '-q', '--filter', 'driver=local', '--filter', 'name=vcl']), /^vcli$/m);
  // a generated name
  const gen = (await ok(['volume', 'create'])).trim();
  assert.match(gen, /^[a-f0-9]{64}$/);
  assert.equal((await ok(['volume', 'rm', 'vcli', gen])).trim(), `vcli\n${gen}`);
  assert.ok(!existsSync(v.Mountpoint));
  const missing = await docker(daemon(), ['volume', 'inspect', 'vcli']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /get vcli: no such volume/);
  assert.equal((await docker(daemon(), ['volume', 'rm', 'vcli'])).code, 1);
  assert.equal((await docker(daemon(), ['volume', 'rm', '-f', 'vcli'])).code, 0, 'rm -f of a missing volume succeeds');
  const bad = await docker(daemon(), ['volume', 'create', 'x/y']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /includes invalid characters for a local volume name/);
});

test('named volume: written by one container, read by another after the first is removed; --volumes-from shares it', async () => {
  await ok(['run', '--name', 'writer', '-v', 'shared:/vol', 'busybox', 'sh', '-c', 'echo persisted > /vol/f.txt']);
  const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'writer']));
  assert.deepEqual(mounts, [{ Type: 'volume', Name: 'shared', Source: join(daemon().dataRoot, 'volumes', 'shared', '_data'), Destination: '/vol', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
  await ok(['rm', 'writer']);
  assert.equal(await ok(['run', '--rm', '-v', 'shared:/other', 'busybox', 'cat', '/other/f.txt']), 'persisted\n');

  await ok(['create', '--name', 'holder', '-v', 'shared:/vol', 'busybox', 'true']);
  assert.equal((await ok(['ps', '-a', '--filter', 'volume=shared', '--format', '{{.Names}}'])).trim(), 'holder');
  assert.equal((await ok(['ps', '-a', '--filter', 'volume=/vol', '--format', '{{.Names}}'])).trim(), 'holder');
  assert.equal((await ok(['ps', '-a', '--filter', 'volume=other', '--format', '{{.Names}}'])).trim(), '');
  // `inspect` finds volumes too (after containers and images)
  assert.equal((await berth(daemon(), ['inspect', '--format', '{{.Driver}}', 'shared'])).stdout, 'local\n');
  assert.equal(await ok(['run', '--rm', '--volumes-from', 'holder', 'busybox', 'sh', '-c', 'cat /vol/f.txt; echo more >> /vol/f.txt']), 'persisted\n');
  assert.equal(await ok(['run', '--rm', '-v', 'shared:/x', 'busybox', 'cat', '/x/f.txt']), 'persisted\nmore\n');
  // :ro makes the shared volume read-only in the new container
  const ro = await docker(daemon(), ['run', '--rm', '--volumes-from', 'holder:ro', 'busybox', 'sh', '-c', 'echo x > /vol/f.txt']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  await ok(['rm', 'holder']);
  await ok(['volume', 'rm', 'shared']);
});

test('anonymous volume from the image VOLUME /data appears in inspect and rm -v removes it', async () => {
  await ok(['run', '--name', 'anon', 'volimg', 'sh', '-c', 'cat /data/preset.txt && echo new > /data/new.txt']);
  const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'anon']));
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0].Type, 'volume');
  assert.equal(mounts[0].Destination, '/data');
  assert.match(mounts[0].Name, /^[a-f0-9]{64}$/);
  const name = mounts[0].Name as string;
  // the image's content was copied up into the new anonymous volume
  assert.equal(readFileSync(join(mounts[0].Source, 'preset.txt'), 'utf8'), 'preset\n');
  assert.equal(readFileSync(join(mounts[0].Source, 'new.txt'), 'utf8'), 'new\n');
  const v = JSON.parse(await ok(['volume', 'inspect', name]))[0];
  assert.deepEqual(v.Labels, { 'com.docker.volume.anonymous': '' });
  // plain rm keeps it, rm -v removes it
  await ok(['run', '--name', 'anon2', 'volimg', 'true']);
  const name2 = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'anon2']))[0].Name as string;
  await ok(['rm', 'anon2']);
  assert.equal((await ok(['volume', 'ls', '-q'])).includes(name2), true, 'rm without -v keeps the anonymous volume');
  await ok(['rm', '-v', 'anon']);
  assert.equal((await ok(['volume', 'ls', '-q'])).includes(name), false, 'rm -v removed the anonymous volume');
  await ok(['volume', 'rm', name2]);
  // --rm removes the anonymous volume too
  await ok(['run', '--rm', '-v', '/scratch', 'busybox', 'true']);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
});

test('VOLUME in a built and in a committed image: an anonymous volume with the image content, removed by rm -v', async () => {
  await ready();
  const ctx = join(scratch, 'build-ctx');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN mkdir -p /data && echo built > /data/b.txt\nVOLUME /data\nCMD ["cat", "/data/b.txt"]\n');
  const build = await docker(daemon(), ['build', '-q', '-t', 'volbuilt', ctx], { timeoutMs: 120_000 });
  assert.equal(build.code, 0, build.stderr);
  assert.equal(await ok(['run', '--name', 'fromb', 'volbuilt']), 'built\n');
  const built = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'fromb']));
  assert.equal(built.length, 1);
  assert.equal(built[0].Destination, '/data');
  assert.match(built[0].Name, /^[a-f0-9]{64}$/);
  await ok(['rm', '-v', 'fromb']);
  assert.equal((await ok(['volume', 'ls', '-q'])).includes(built[0].Name), false);

  await ok(['run', '--name', 'tocommit', 'busybox', 'sh', '-c', 'mkdir /keep && echo committed > /keep/c.txt']);
  await ok(['commit', '--change', 'VOLUME /keep', 'tocommit', 'volcommitted']);
  await ok(['rm', 'tocommit']);
  assert.equal(await ok(['run', '--name', 'fromc', 'volcommitted', 'cat', '/keep/c.txt']), 'committed\n');
  const committed = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'fromc']));
  assert.equal(committed[0].Destination, '/keep');
  await ok(['rm', '-v', 'fromc']);
  assert.equal((await ok(['volume', 'ls', '-q'])).includes(committed[0].Name), false);
  await ok(['rmi', 'volbuilt', 'volcommitted']);
});

test('volume events: create, mount, unmount, destroy; bind propagation reaches the spec', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await ok(['run', '--rm', '-v', 'evvol:/e', 'busybox', 'true']);
  await ok(['volume', 'rm', 'evvol']);
  const ev = await ok(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=volume', '--filter', 'volume=evvol', '--format', '{{.Action}} {{.Actor.Attributes.driver}}']);
  assert.deepEqual(ev.trim().split('\n'), ['create local', 'mount local', 'unmount local', 'destroy local']);
  await ready();
  const shared = join(scratch, 'shared');
  mkdirSync(shared, { recursive: true });
  // (this host's / is a private mount, so the kernel cannot show the propagation: check the spec)
  const id = (await ok(['run', '-d', '-v', `${shared}:/s:rslave,ro`, 'busybox', 'sleep', '60'])).trim();
  const spec = JSON.parse(readFileSync(join(daemon().execRoot, 'containers', id, 'config.json'), 'utf8')) as { mounts: Array<{ destination: string; options: string[] }> };
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/s')?.options, ['rbind', 'ro', 'rslave']);
  await ok(['rm', '-f', id]);
});

test('--mount volume-subpath mounts a directory inside the volume; a missing one fails the start', async () => {
  await ok(['run', '--rm', '-v', 'subvol:/v', 'busybox', 'sh', '-c', 'mkdir -p /v/app/conf && echo c > /v/app/conf/x']);
  assert.equal(await ok(['run', '--rm', '--mount', 'type=volume,src=subvol,dst=/etc/app,volume-subpath=app/conf', 'busybox', 'cat', '/etc/app/x']), 'c\n');
  const missing = await docker(daemon(), ['run', '--rm', '--mount', 'type=volume,src=subvol,dst=/m,volume-subpath=nope', 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no such file or directory/);
  await ok(['volume', 'rm', 'subvol']);
});

test('info reports the storage driver and the backing filesystem', async () => {
  const info = JSON.parse(await ok(['info', '--format', '{{json .}}']));
  const vfs = process.env.BERTH_TEST_STORAGE_DRIVER === 'vfs';
  assert.equal(info.Driver, vfs ? 'vfs' : 'overlay2');
  assert.equal(info.DriverStatus[0][0], 'Backing Filesystem');
  assert.notEqual(info.DriverStatus[0][1], '');
});

test('bind mounts: read-only write fails with EROFS; rw writes are visible on the host; missing host path is created', async () => {
  await ready();
  const host = join(scratch, 'bind');
  mkdirSync(host);
  writeFileSync(join(host, 'in.txt'), 'from host\n');
  const ro = await docker(daemon(), ['run', '--rm', '-v', `${host}:/b:ro`, 'busybox', 'sh', '-c', 'cat /b/in.txt; echo x > /b/out.txt']);
  assert.notEqual(ro.code, 0);
  assert.equal(ro.stdout, 'from host\n');
  assert.match(ro.stderr, /Read-only file system/);
  assert.ok(!existsSync(join(host, 'out.txt')));
  // the errno itself, through a program that reports it
  const errno = await docker(daemon(), ['run', '--rm', '--mount', `type=bind,source=${host},target=/b,readonly`, 'busybox', 'sh', '-c', 'touch /b/t 2>&1; true']);
  assert.match(errno.stdout, /Read-only file system/);

  await ok(['run', '--rm', '-v', `${host}:/b`, 'busybox', 'sh', '-c', 'echo from container > /b/out.txt']);
  assert.equal(readFileSync(join(host, 'out.txt'), 'utf8'), 'from container\n');

  const created = join(scratch, 'made', 'by', 'run');
  await ok(['run', '--rm', '-v', `${created}:/m`, 'busybox', 'touch', '/m/x']);
  assert.ok(existsSync(join(created, 'x')));
  const inspect = await ok(['run', '--name', 'bindinsp', '-v', `${host}:/b:ro`, 'busybox', 'true']);
  void inspect;
  const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'bindinsp']));
  assert.deepEqual(mounts, [{ Type: 'bind', Source: host, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' }]);
  await ok(['rm', 'bindinsp']);
  // --mount type=bind refuses a missing source, and nothing is left
  const missing = await docker(daemon(), ['run', '--rm', '--name', 'nobind', '--mount', `type=bind,source=${join(scratch, 'nope')},target=/n`, 'busybox', 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /bind source path does not exist/);
  assert.equal((await ok(['ps', '-aq', '--filter', 'name=nobind'])).trim(), '');
});

test('--mount type=tmpfs,tmpfs-size=1m: writing 2 MB fails with ENOSPC; --tmpfs works', async () => {
  const r = await docker(daemon(), ['run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/t/big bs=1024 count=2048']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No space left on device/);
  const small = await ok(['run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/t/small bs=1024 count=512 2>/dev/null && stat -c %a /t && grep " /t " /proc/mounts']);
  assert.match(small, /^1770\n/);
  assert.match(small, /tmpfs \/t tmpfs .*size=1024k/);
  const flag = await ok(['run', '--rm', '--tmpfs', '/run:size=64k', 'busybox', 'sh', '-c', 'grep " /run " /proc/mounts']);
  assert.match(flag, /tmpfs \/run tmpfs rw,nosuid,nodev,noexec,.*size=64k/);
  assert.deepEqual(leakedMounts(daemon().dir), []);
});

test('copy-up: a new named volume over an image path starts with its files, ownership and modes', async () => {
  await ok(['run', '--rm', '-v', 'seeded:/seed', 'volimg', 'true']);
  const dir = join(daemon().dataRoot, 'volumes', 'seeded', '_data');
  const root = statSync(dir);
  assert.equal(root.uid, 1000);
  assert.equal(root.mode & 0o7777, 0o750);
  const hello = statSync(join(dir, 'hello.txt'));
  assert.deepEqual([hello.uid, hello.gid, hello.mode & 0o777], [1000, 1000, 0o640]);
  const deep = statSync(join(dir, 'sub', 'deep.txt'));
  assert.deepEqual([deep.uid, deep.gid, deep.mode & 0o777], [2000, 3000, 0o600]);
  assert.equal(await ok(['run', '--rm', '-v', 'seeded:/seed', 'volimg', 'cat', '/seed/hello.txt']), 'from the image\n');
  // a volume that is not empty is not copied into again
  await ok(['run', '--rm', '-v', 'seeded:/seed', 'volimg', 'rm', '/seed/hello.txt']);
  assert.equal(await ok(['run', '--rm', '-v', 'seeded:/seed', 'volimg', 'ls', '/seed']), 'sub\n');
  // nocopy leaves a new volume empty
  assert.equal(await ok(['run', '--rm', '-v', 'empty:/seed:nocopy', 'volimg', 'ls', '-A', '/seed']), '');
  // an empty image directory gives the new volume its owner and mode (busybox's /tmp is 1777)
  await ok(['run', '--rm', '-v', 'tmpseed:/tmp', 'volimg', 'true']);
  assert.equal(statSync(join(daemon().dataRoot, 'volumes', 'tmpseed', '_data')).mode & 0o7777, 0o1777);
  await ok(['volume', 'rm', 'seeded', 'empty', 'tmpseed']);
});

test('volume rm of an in-use volume is 409 and keeps the data; prune removes only unused anonymous volumes', async () => {
  await ok(['run', '--name', 'user1', '-v', 'busy:/v', 'busybox', 'sh', '-c', 'echo keep > /v/k']);
  const rm = await daemon().api('DELETE', '/volumes/busy');
  assert.equal(rm.status, 409);
  assert.match(rm.json<{ message: string }>().message, /^remove busy: volume is in use - \[[a-f0-9]{64}\]$/);
  const cli = await docker(daemon(), ['volume', 'rm', '-f', 'busy']);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /volume is in use/);
  assert.equal(readFileSync(join(daemon().dataRoot, 'volumes', 'busy', '_data', 'k'), 'utf8'), 'keep\n');

  // unused named, unused anonymous, in-use anonymous
  await ok(['volume', 'create', 'idle']);
  await ok(['create', '--name', 'anonuser', '-v', '/in-use', 'busybox', 'true']);
  await ok(['run', '--name', 'anondone', '-v', '/unused', 'busybox', 'true']);
  const unusedAnon = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'anondone']))[0].Name as string;
  const usedAnon = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', 'anonuser']))[0].Name as string;
  await ok(['rm', 'anondone']); // without -v: the anonymous volume stays, unused
  const pruned = await ok(['volume', 'prune', '-f']);
  assert.match(pruned, new RegExp(`Deleted Volumes:\\n${unusedAnon}\\n`));
  const left = (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
  assert.deepEqual(left, ['busy', 'idle', usedAnon].sort());
  // --all also takes unused named volumes
  const all = await ok(['volume', 'prune', '-af']);
  assert.match(all, /idle/);
  assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort(), ['busy', usedAnon].sort());
  // API clients older than 1.42 get the old default: every unused volume
  await ok(['volume', 'create', 'oldclient']);
  const old = await daemon().api('POST', '/v1.41/volumes/prune');
  assert.deepEqual(old.json<{ VolumesDeleted: string[] }>().VolumesDeleted, ['oldclient']);
  await ok(['rm', '-v', 'anonuser', 'user1']);
  await ok(['volume', 'rm', 'busy']);
});

test('system df reports volumes with size and refcount (UsageData)', async () => {
  await ok(['run', '--name', 'dfuser', '-v', 'dfvol:/v', 'busybox', 'sh', '-c', 'head -c 12345 /dev/zero > /v/f']);
  const df = await daemon().api('GET', '/system/df?type=volume');
  assert.equal(df.status, 200, df.body);
  const vol = df.json<{ Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }> }>().Volumes.find((v) => v.Name === 'dfvol');
  assert.deepEqual(vol?.UsageData, { Size: 12345, RefCount: 1 });
  const cli = await ok(['system', 'df', '-v']);
  assert.match(cli, /^dfvol\s+1\s+12.35kB$/m);
  await ok(['rm', 'dfuser']);
  await ok(['volume', 'rm', 'dfvol']);
});

test('local driver options: tmpfs volume and a bind of an existing directory', async () => {
  await ready();
  await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=64k', 'tmpvol']);
  const v = JSON.parse(await ok(['volume', 'inspect', 'tmpvol']))[0];
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=64k' });
  const r = await docker(daemon(), ['run', '--rm', '-v', 'tmpvol:/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts; dd if=/dev/zero of=/t/f bs=1024 count=128']);
  assert.match(r.stdout, /^tmpfs \/t tmpfs .*size=64k/m);
  assert.match(r.stderr, /No space left on device/);
  assert.deepEqual(leakedMounts(daemon().dir), [], 'unmounted once no container uses it');
  // a start that fails after the volume was mounted leaves no mount behind
  const failed = await docker(daemon(), ['run', '--rm', '-v', 'tmpvol:/t', 'busybox', '/no/such/command']);
  assert.equal(failed.code, 127);
  assert.deepEqual(leakedMounts(daemon().dir), [], 'a failed start unmounts the volume');

  const src = join(scratch, 'srv-x');
  mkdirSync(src);
  writeFileSync(join(src, 'existing'), 'host data\n');
  await ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${src}`, 'bindvol']);
  assert.equal(await ok(['run', '--rm', '-v', 'bindvol:/b', 'busybox', 'sh', '-c', 'cat /b/existing; echo via volume > /b/new']), 'host data\n');
  assert.equal(readFileSync(join(src, 'new'), 'utf8'), 'via volume\n');
  await ok(['volume', 'rm', 'tmpvol', 'bindvol']);
  assert.equal(readFileSync(join(src, 'existing'), 'utf8'), 'host data\n', 'removing the volume leaves the bound directory alone');
  assert.deepEqual(leakedMounts(daemon().dir), []);
  const bad = await docker(daemon(), ['volume', 'create', '-o', 'foo=bar', 'badopt']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid option key: "foo"/);
  const sized = await docker(daemon(), ['volume', 'create', '-o', 'size=10m', 'sized']);
  assert.notEqual(sized.code, 0);
  assert.match(sized.stderr, /quota size requested but no quota support/);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
});

test('a failed create leaves no volume behind', async () => {
  await ready();
  const r = await docker(daemon(), ['create', '-v', 'fresh:/a', '-v', '/b', '--mount', `type=bind,source=${join(scratch, 'absent')},target=/c`, 'busybox', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /bind source path does not exist/);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
  const dup = await docker(daemon(), ['create', '-v', 'fresh:/a', '-v', 'other:/a', 'busybox', 'true']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /Duplicate mount point: \/a/);
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
  const entries = existsSync(join(daemon().dataRoot, 'volumes')) ? readdirSync(join(daemon().dataRoot, 'volumes')) : [];
  assert.deepEqual(entries, []);
});

test('berth CLI: volume create/ls/inspect/rm/prune through the typed client', async () => {
  const c = await berth(daemon(), ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'bv']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout, 'bv\n');
  const ls = await berth(daemon(), ['volume', 'ls']);
  assert.match(ls.stdout, /^local\s+bv$/m);
  const insp = await berth(daemon(), ['volume', 'inspect', '--format', '{{.Driver}} {{.Options.type}}', 'bv']);
  assert.equal(insp.stdout, 'local tmpfs\n');
  const run = await berth(daemon(), ['run', '--rm', '--mount', 'type=volume,source=bv2,target=/x', 'busybox', 'sh', '-c', 'echo hi > /x/f && cat /x/f']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'hi\n');
  assert.equal((await berth(daemon(), ['volume', 'rm', 'bv', 'bv2'])).stdout, 'bv\nbv2\n');
  const prune = await berth(daemon(), ['volume', 'prune', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Total reclaimed space: 0B/);
});

test('volume data and refcounts survive berthd kill -9 and restart', async () => {
  const d = daemon();
  await ok(['run', '-d', '--name', 'longrun', '-v', 'durable:/d', 'busybox', 'sh', '-c', 'echo before > /d/f; sleep 600']);
  for (let i = 0; i < 100 && !existsSync(join(d.dataRoot, 'volumes', 'durable', '_data', 'f')); i++) await new Promise((r) => setTimeout(r, 100));
  await d.kill9();
  await d.start();
  assert.equal((await d.api('DELETE', '/volumes/durable')).status, 409, 'still in use after restart');
  assert.equal(await ok(['run', '--rm', '-v', 'durable:/d', 'busybox', 'cat', '/d/f']), 'before\n');
  await ok(['rm', '-f', 'longrun']);
  assert.equal((await d.api('DELETE', '/volumes/durable')).status, 204);
});

test('a crash while creating or removing a volume leaves nothing half-made after the restart', async () => {
  const d = daemon();
  const volumesDir = join(d.dataRoot, 'volumes');
  await d.stop();
  // created by the driver, killed before the record: the directory is swept at the next start
  await d.start({ BERTH_FAILPOINT: 'volume-create-before-commit' });
  await d.api('POST', '/volumes/create', { Name: 'halfvol' }).catch(() => undefined);
  await d.exited();
  assert.ok(existsSync(join(volumesDir, 'halfvol')), 'the crash left the directory');
  await d.start();
  assert.equal((await ok(['volume', 'ls', '-q'])).trim(), '');
  assert.ok(!existsSync(join(volumesDir, 'halfvol')), 'swept at start');

  // record removed, killed before the data: the data is swept at the next start
  await ok(['volume', 'create', 'gonevol']);
  writeFileSync(join(volumesDir, 'gonevol', '_data', 'f'), 'x');
  await d.stop();
  await d.start({ BERTH_FAILPOINT: 'volume-remove-after-commit' });
  await d.api('DELETE', '/volumes/gonevol').catch(() => undefined);
  await d.exited();
  assert.ok(existsSync(join(volumesDir, 'gonevol')));
  await d.start();
  assert.equal((await d.api('GET', '/volumes/gonevol')).status, 404);
  assert.ok(!existsSync(join(volumesDir, 'gonevol')));
  assert.deepEqual(readdirSync(volumesDir), []);
});
