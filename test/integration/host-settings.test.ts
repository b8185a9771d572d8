// berthd's one host-wide setting: the cgroup2 `favordynmods` option (src/os/favordynmods.ts). The
// test takes the option off the host's cgroup2 mount (a remount that keeps every other option),
// starts berthd with --no-cgroup-favordynmods (the mount must stay as it is), then with the default
// (the option is back and nothing else about the mount changed). The host ends with the option on,
// as any berthd start leaves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestDaemon } from '../helpers/daemon.ts';
import { libc } from '../../src/os/libc.ts';
import { parseMountOptions } from '../../src/os/mount.ts';
import { findCgroup2Mount } from '../../src/os/favordynmods.ts';

const MS_REMOUNT = 0x20;

function cgroup2(): ReturnType<typeof findCgroup2Mount> {
  return findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
}

async function withDaemon(args: string[], fn: (d: TestDaemon) => void): Promise<void> {
  const d = new TestDaemon();
  try {
    await d.start({}, args);
    fn(d);
  } finally {
    await d.cleanup();
  }
}

test('berthd turns cgroup2 favordynmods on at start, keeping the mount’s other options; --no-cgroup-favordynmods leaves it', async () => {
  const before = cgroup2();
  const kernelMajor = Number(readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.')[0]);
  if (!before || kernelMajor < 6 || before.mountOptions.includes('ro')) {
    // nothing berthd may change: it says why and starts anyway
    await withDaemon([], (d) => assert.match(d.logs, /cgroup2 favordynmods(: no-cgroup2| not enabled on \S+: )/));
    return;
  }
  // take the option off (the kernel keeps any faster locking it switched to; the flag goes)
  const c = await libc();
  assert.ok(c, 'koffi/libc is needed to remount cgroup2');
  const others = before.superOptions.filter((o) => o !== 'favordynmods' && o !== 'rw');
  const errno = await c.mount('none', before.target, null, MS_REMOUNT | parseMountOptions(before.mountOptions).flags, others.join(','));
  assert.equal(errno, 0, `remount without favordynmods: ${c.strerror(errno)}`);
  const off = cgroup2()!;
  assert.ok(!off.superOptions.includes('favordynmods'), off.superOptions.join(','));

  await withDaemon(['--no-cgroup-favordynmods'], () => {
    assert.deepEqual(cgroup2(), off, 'the opt-out must leave the mount as it is');
  });

  await withDaemon([], (d) => {
    const on = cgroup2()!;
    assert.match(d.logs, /remounted \S+ with favordynmods/);
    assert.deepEqual(on.mountOptions, off.mountOptions, 'per-mount flags (ro/rw, nosuid, nodev, noexec, atime) unchanged');
    assert.deepEqual([...on.superOptions].sort(), [...off.superOptions, 'favordynmods'].sort(), 'super block options kept, favordynmods added');
  });
});
