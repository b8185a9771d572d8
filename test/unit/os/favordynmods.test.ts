import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enableFavorDynmods, favorDynmodsRemount } from '../../../src/os/favordynmods.ts';
import type { Libc } from '../../../src/os/libc.ts';

const MS_REMOUNT = 0x20;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_RELATIME = 0x200000;

// a hybrid host (this bench VM): v1 controllers plus cgroup2 at /sys/fs/cgroup/unified
const HYBRID = [
  '22 27 0:21 / /proc rw,relatime - proc proc rw',
  '30 29 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '',
].join('\n');

// a systemd cgroup v2 host: the super block's own options must survive the remount
const V2 = '35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';

test('favordynmods: the remount keeps the per-mount flags and the super block options', () => {
  assert.deepEqual(favorDynmodsRemount(HYBRID), { target: '/sys/fs/cgroup/unified', flags: MS_REMOUNT | MS_RELATIME, data: 'favordynmods' });
  assert.deepEqual(favorDynmodsRemount(V2), {
    target: '/sys/fs/cgroup',
    flags: MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME,
    data: 'nsdelegate,memory_recursiveprot,favordynmods',
  });
  // already on: nothing to do; no cgroup2 mount at all (pure v1): nothing to do
  assert.deepEqual(favorDynmodsRemount(V2.replace('memory_recursiveprot', 'favordynmods,memory_recursiveprot')), { already: '/sys/fs/cgroup' });
  assert.equal(favorDynmodsRemount(HYBRID.split('\n').filter((l) => !l.includes('cgroup2')).join('\n')), undefined);
  // mountinfo escapes spaces in paths
  const odd = favorDynmodsRemount('40 30 0:36 / /mnt/cg\\040two rw - cgroup2 none rw\n');
  assert.ok(odd && 'target' in odd);
  assert.equal(odd.target, '/mnt/cg two');
});

function fakeLibc(errno: number): Libc & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    mount: async (...args) => {
      calls.push(args);
      return errno;
    },
    umount2: async () => 0,
    syncfs: async () => 0,
    strerror: (e) => `errno ${e}`,
  };
}

test('favordynmods: one remount(2) of the cgroup2 mount; an old kernel is reported, not fatal', async () => {
  const ok = fakeLibc(0);
  assert.deepEqual(await enableFavorDynmods(V2, ok), { state: 'enabled', target: '/sys/fs/cgroup' });
  assert.deepEqual(ok.calls, [['none', '/sys/fs/cgroup', null, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME, 'nsdelegate,memory_recursiveprot,favordynmods']]);

  const old = fakeLibc(22);
  const r = await enableFavorDynmods(HYBRID, old);
  assert.equal(r.state, 'unsupported');
  assert.match((r as { reason: string }).reason, /no favordynmods option/);

  const none = fakeLibc(0);
  assert.deepEqual(await enableFavorDynmods(V2.replace('nsdelegate', 'nsdelegate,favordynmods'), none), { state: 'already', target: '/sys/fs/cgroup' });
  assert.deepEqual(await enableFavorDynmods('', none), { state: 'no-cgroup2' });
  assert.equal(none.calls.length, 0);
});

test('favordynmods: a read-only cgroup2 view is never remounted (it would make the super block read-only)', async () => {
  const ro = V2.replace('rw,nosuid,nodev,noexec,relatime shared:9', 'ro,nosuid,nodev,noexec,relatime shared:9');
  assert.deepEqual(favorDynmodsRemount(ro), { readOnly: '/sys/fs/cgroup' });
  const c = fakeLibc(0);
  const r = await enableFavorDynmods(ro, c);
  assert.equal(r.state, 'unsupported');
  assert.match((r as { reason: string }).reason, /read-only/);
  assert.equal(c.calls.length, 0);
});
