import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, type SpecInput } from '../../../src/runtime/spec/build.ts';
import { DEFAULT_CAPABILITIES, ALL_CAPABILITIES, tweakCapabilities } from '../../../src/runtime/spec/caps.ts';
import { resolveUser } from '../../../src/runtime/spec/user.ts';
import { containerEnv, mergeEnv, DEFAULT_PATH } from '../../../src/runtime/spec/env.ts';
import { resolveInRoot } from '../../../src/runtime/spec/rootpath.ts';
import { isKind } from '../../../src/lib/errors.ts';
import type { HostConfig } from '../../../src/types/docker.ts';

function input(hc: Partial<HostConfig> = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'c1',
    args: ['sh', '-c', 'true'],
    env: ['PATH=/bin'],
    cwd: '',
    user: { uid: 0, gid: 0 },
    hostname: 'abc',
    tty: false,
    openStdin: false,
    hostConfig: hc,
    rootfsPath: '/r/rootfs',
    cgroupsPath: '/berth/c1',
    ...extra,
  };
}

test('defaults match Docker', () => {
  const s = buildSpec(input({}, { hostsPath: '/h/hosts', resolvConfPath: '/h/resolv.conf', hostnamePath: '/h/hostname' }));
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['mount', 'network', 'uts', 'pid', 'ipc']);
  assert.deepEqual(s.process.capabilities!.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities!.effective, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(s.process.capabilities!.permitted, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.process.capabilities!.inheritable, undefined);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(s.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.deepEqual(s.linux.readonlyPaths, [...DEFAULT_READONLY_PATHS]);
  assert.equal(s.process.cwd, '/');
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.equal(s.hostname, 'abc');
  assert.equal(s.root.path, '/r/rootfs');
  assert.equal(s.root.readonly, false);
  assert.equal(s.linux.cgroupsPath, '/berth/c1');
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
  const m = Object.fromEntries(s.mounts.map((x) => [x.destination, x]));
  assert.deepEqual(Object.keys(m), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
  assert.ok(m['/dev'].options!.includes('size=65536k') && m['/dev'].options!.includes('mode=755'));
  assert.ok(['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'].every((o) => m['/dev/pts'].options!.includes(o)));
  assert.ok(m['/dev/shm'].options!.includes(`size=${64 * 1024 * 1024}`));
  assert.ok(m['/sys'].options!.includes('ro'));
  assert.equal(m['/sys/fs/cgroup'].type, 'cgroup');
  assert.ok(m['/sys/fs/cgroup'].options!.includes('ro'));
  assert.equal(m['/etc/hosts'].source, '/h/hosts');
  assert.equal(m['/etc/hosts'].type, 'bind');
  const dev = s.linux.resources!.devices!;
  assert.deepEqual(dev[0], { allow: false, access: 'rwm' });
  assert.ok(dev.some((d) => d.allow && d.type === 'c' && d.major === 1 && d.minor === 3)); // null
  assert.ok(dev.some((d) => d.allow && d.type === 'c' && d.major === undefined && d.access === 'm'));
  assert.ok(dev.some((d) => d.allow && d.type === 'b' && d.major === undefined && d.access === 'm'));
  assert.equal(s.linux.resources!.memory, undefined);
  assert.equal(s.linux.resources!.pids, undefined);
  // JSON round trip keeps it valid (no undefined leaking as null)
  assert.ok(!JSON.stringify(s).includes('null'));
});

test('memory, swap, cpu and pids limits follow Docker', () => {
  const mem = 64 * 1024 * 1024;
  assert.deepEqual(buildSpec(input({ Memory: mem })).linux.resources!.memory, { limit: mem, swap: 2 * mem });
  assert.deepEqual(buildSpec(input({ Memory: mem, MemorySwap: -1 })).linux.resources!.memory, { limit: mem, swap: -1 });
  assert.deepEqual(buildSpec(input({ Memory: mem, MemorySwap: 3 * mem })).linux.resources!.memory, { limit: mem, swap: 3 * mem });
  assert.deepEqual(buildSpec(input({ Memory: mem }, { hostFeatures: { swapLimit: false } })).linux.resources!.memory, { limit: mem });
  assert.throws(() => buildSpec(input({ Memory: mem, MemorySwap: mem / 2 })), (e) => isKind(e, 'InvalidParameter'));
  assert.throws(() => buildSpec(input({ MemorySwap: mem })), (e) => isKind(e, 'InvalidParameter'));
  assert.deepEqual(buildSpec(input({ NanoCpus: 1_500_000_000 })).linux.resources!.cpu, { period: 100000, quota: 150000 });
  assert.deepEqual(buildSpec(input({ NanoCpus: 500_000_000, CpuShares: 512 })).linux.resources!.cpu, { shares: 512, period: 100000, quota: 50000 });
  assert.deepEqual(buildSpec(input({ PidsLimit: 10 })).linux.resources!.pids, { limit: 10 });
  assert.equal(buildSpec(input({ PidsLimit: -1 })).linux.resources!.pids, undefined);
  assert.equal(buildSpec(input({ PidsLimit: 0 })).linux.resources!.pids, undefined);
  assert.ok(buildSpec(input({ ShmSize: 1 << 20 })).mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('size=1048576'));
  assert.equal(buildSpec(input({ ReadonlyRootfs: true })).root.readonly, true);
  assert.equal(buildSpec(input({ OomScoreAdj: 500 })).process.oomScoreAdj, 500);
});

test('ulimits override the default nofile; host limit caps it', () => {
  const s = buildSpec(input({ Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'nproc', Soft: 5, Hard: 5 }] }));
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }, { type: 'RLIMIT_NPROC', hard: 5, soft: 5 }]);
  assert.deepEqual(buildSpec(input({}, { hostFeatures: { nofileLimit: 20000 } })).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.throws(() => buildSpec(input({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] })), (e) => isKind(e, 'InvalidParameter'));
});

test('capabilities: add/drop with and without CAP_, ALL, privileged', () => {
  assert.deepEqual(tweakCapabilities({ add: ['net_admin'], drop: ['CAP_CHOWN', 'mknod'] }), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN']);
  assert.deepEqual(tweakCapabilities({ drop: ['ALL'], add: ['CAP_KILL'] }), ['CAP_KILL']);
  assert.deepEqual(tweakCapabilities({ drop: ['all'] }), []);
  assert.deepEqual(tweakCapabilities({ add: ['ALL'], drop: ['SYS_ADMIN'] }), ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(tweakCapabilities({ add: ['KILL'] }), [...DEFAULT_CAPABILITIES]); // already there: no duplicate
  assert.throws(() => tweakCapabilities({ add: ['FOO'] }), /unknown capability: "CAP_FOO"/);
  const p = buildSpec(input({ Privileged: true, CapDrop: ['ALL'] }));
  assert.deepEqual(p.process.capabilities!.bounding, [...ALL_CAPABILITIES]);
  assert.deepEqual(p.linux.maskedPaths, []);
  assert.deepEqual(p.linux.readonlyPaths, []);
  assert.deepEqual(p.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(p.mounts.find((m) => m.destination === '/sys')!.options!.includes('rw'));
});

test('network modes: host shares the netns, others get a new one or the given path', () => {
  const types = (hc: Partial<HostConfig>, extra: Partial<SpecInput> = {}) => buildSpec(input(hc, extra)).linux.namespaces;
  assert.ok(!types({ NetworkMode: 'host' }).some((n) => n.type === 'network'));
  for (const mode of ['none', 'default', 'bridge']) assert.deepEqual(types({ NetworkMode: mode }).find((n) => n.type === 'network'), { type: 'network' });
  assert.deepEqual(types({ NetworkMode: 'bridge' }, { netnsPath: '/run/netns/x' }).find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.ok(!types({ PidMode: 'host', IpcMode: 'host' }).some((n) => n.type === 'pid' || n.type === 'ipc'));
});

test('extra mounts come last and replace a default at the same destination', () => {
  const s = buildSpec(input({}, { extraMounts: [{ destination: '/dev/shm', type: 'bind', source: '/x', options: ['rbind'] }, { destination: '/data', type: 'bind', source: '/v', options: ['rbind', 'ro'] }] }));
  assert.deepEqual(s.mounts.slice(-2).map((m) => m.destination), ['/dev/shm', '/data']);
  assert.equal(s.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.equal(s.mounts.find((m) => m.destination === '/dev/shm')!.source, '/x');
});

test('tty sets terminal and console size', () => {
  const s = buildSpec(input({ ConsoleSize: [30, 100] }, { tty: true }));
  assert.equal(s.process.terminal, true);
  assert.deepEqual(s.process.consoleSize, { height: 30, width: 100 });
});

test('environment: PATH, HOSTNAME, TERM, HOME defaults and overrides', () => {
  assert.deepEqual(containerEnv({ env: ['FOO=1'], hostname: 'h', tty: true, home: '/root' }), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'TERM=xterm', 'FOO=1', 'HOME=/root']);
  assert.deepEqual(containerEnv({ env: ['PATH=/x', 'HOME=/h'], hostname: 'h', tty: false, home: '/root' }), ['PATH=/x', 'HOSTNAME=h', 'HOME=/h']);
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C=4', 'A=5']), ['A=5', 'B=3', 'C=4']);
});

async function fakeRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33:www:/var/www:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh\nbroken:x:nope\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nwww:x:33:\nstaff:x:50:bob,www\nusers:x:100:bob\nbob:x:1000:\n');
  return root;
}

test('resolveUser: the accepted forms', async () => {
  const root = await fakeRoot();
  assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(await resolveUser(root, 'bob'), { uid: 1000, gid: 1000, additionalGids: [50, 100], home: '/home/bob' });
  assert.deepEqual(await resolveUser(root, '33'), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
  assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(root, 'bob:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/bob' });
  assert.deepEqual(await resolveUser(root, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(root, 'www', ['users', '7']), { uid: 33, gid: 33, additionalGids: [50, 100, 7], home: '/var/www' });
  await assert.rejects(resolveUser(root, 'xyz'), (e: Error) => isKind(e, 'InvalidParameter') && e.message === 'unable to find user xyz: no matching entries in passwd file');
  await assert.rejects(resolveUser(root, 'bob:nogroup'), /unable to find group nogroup: no matching entries in group file/);
  await rm(root, { recursive: true });
});

test('resolveUser: no passwd file means numeric only, names fail', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(await resolveUser(root, '5:6'), { uid: 5, gid: 6, additionalGids: [], home: '/' });
  await assert.rejects(resolveUser(root, 'root'), /unable to find user root/);
  await rm(root, { recursive: true });
});

test('resolveUser: a hostile symlinked /etc/passwd cannot read host files', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'berth-host-'));
  await writeFile(join(outside, 'passwd'), 'hostuser:x:777:777::/host:/bin/sh\n');
  for (const link of [join(outside, 'passwd'), '../../../../../../..' + join(outside, 'passwd')]) {
    const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
    await mkdir(join(root, 'etc'));
    await symlink(link, join(root, 'etc/passwd'));
    await assert.rejects(resolveUser(root, 'hostuser'), /unable to find user hostuser/);
    await rm(root, { recursive: true });
  }
  // A symlinked /etc directory pointing at the host's: resolved inside the rootfs instead.
  const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  await symlink(outside, join(root, 'etc'));
  await assert.rejects(resolveUser(root, 'hostuser'), /unable to find user hostuser/);
  // A symlink that stays inside the rootfs is followed, as the container would.
  await rm(join(root, 'etc'));
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data/pw'), 'app:x:900:901::/app:/bin/sh\n');
  await symlink('/data/pw', join(root, 'etc/passwd'));
  assert.deepEqual(await resolveUser(root, 'app'), { uid: 900, gid: 901, additionalGids: [], home: '/app' });
  // Symlink loops fail cleanly.
  await rm(join(root, 'etc/passwd'));
  await symlink('/etc/passwd', join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'app'), (e) => isKind(e, 'InvalidParameter'));
  await rm(root, { recursive: true });
  await rm(outside, { recursive: true });
});

test('resolveInRoot clamps .. and absolute links to the root', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  await mkdir(join(root, 'a'));
  await symlink('../../../../etc', join(root, 'a/up'));
  assert.equal(await resolveInRoot(root, '/a/up/passwd'), join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, '/../../x'), join(root, 'x'));
  assert.equal(await resolveInRoot(root, '/missing/../../y'), join(root, 'y'));
  await rm(root, { recursive: true });
});
