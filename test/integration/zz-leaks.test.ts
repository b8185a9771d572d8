// Runs last: the suite left nothing behind on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_NET_RE, testNetObjects } from '../helpers/daemon.ts';

test('no leaked network objects of test daemons: bridges, veths, netns, nftables tables', () => {
  // Every test daemon names its objects bt<4 hex> (test/helpers/daemon.ts): only those are ours.
  const { links, tables } = testNetObjects();
  assert.deepEqual(links, [], 'bridges and veths');
  assert.deepEqual(tables, [], 'nftables tables');
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => TEST_NET_RE.test(n)) : [];
  assert.deepEqual(netns, [], 'named netns');
  const nsMounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / nsfs /.test(l) && /berth-(it|test)-/.test(l));
  assert.deepEqual(nsMounts, [], 'netns bind mounts');
});

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

test('no leaked registry servers, podman processes or registry test directories (issue 5)', () => {
  const procs: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/berth-(registry|interop|regsrv)-/.test(cmd) && /registry serve|docker-registry|podman|skopeo/.test(cmd)) procs.push(`${p}: ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  assert.deepEqual(procs, [], 'processes');
  assert.deepEqual(readdirSync(tmpdir()).filter((n) => /^berth-(registry|interop|regsrv|saveload)-/.test(n)), [], 'temp directories');
});
