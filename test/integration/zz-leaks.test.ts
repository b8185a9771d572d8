// Runs last: the suite left nothing behind on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('no leaked mounts, processes, cgroups or bundles', () => {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && /berth-(it|test|fixture|unit)-/.test(m));
  assert.deepEqual(mounts, [], 'mounts');
  const procs: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/berth-(it|test|unit)-/.test(cmd) && /conmon|runc|berthd/.test(cmd)) procs.push(`${p}: ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  assert.deepEqual(procs, [], 'processes');
  const cgroups: string[] = [];
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', ctrl);
    try {
      for (const e of readdirSync(dir)) if (e.startsWith('berth-test-')) cgroups.push(join(dir, e));
    } catch {
      /* not a directory */
    }
  }
  assert.deepEqual(cgroups, [], 'cgroups');
  const dirs = readdirSync(tmpdir()).filter((n) => /^berth-(it|unit)-/.test(n) && existsSync(join(tmpdir(), n, 'run', 'containers')));
  assert.deepEqual(dirs, [], 'bundles');
});
