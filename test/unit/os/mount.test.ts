import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountOptions } from '../../../src/os/mount.ts';

test('mount options: flag words become MS_* bits, the rest is the data string', () => {
  assert.deepEqual(parseMountOptions(['lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w']), { flags: 0, data: 'lowerdir=/a:/b,upperdir=/u,workdir=/w' });
  // ro|nosuid|nodev|noexec
  assert.deepEqual(parseMountOptions(['ro', 'nosuid', 'nodev', 'noexec', 'size=64m', 'mode=1777']), { flags: 0x1 | 0x2 | 0x4 | 0x8, data: 'size=64m,mode=1777' });
  // a later word clears an earlier one, as mount(8) reads them
  assert.deepEqual(parseMountOptions(['ro', 'rw', 'noexec', 'exec']), { flags: 0, data: '' });
  // options mount(8) keeps to itself never reach the kernel
  assert.deepEqual(parseMountOptions(['defaults', 'nofail', 'x-systemd.automount', 'uid=1000']), { flags: 0, data: 'uid=1000' });
});
