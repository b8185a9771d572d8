import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePs } from '../../../src/daemon/containers/top.ts';
import { statsRow } from '../../../src/cli/commands/container/stats.ts';
import { updateBody } from '../../../src/cli/commands/container/update.ts';

test('top: rows of the container\'s PIDs only, CMD keeps its spaces', () => {
  const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 /sbin/init\nroot 42 40 0 10:01 ? 00:00:00 sleep 1000 --flag\nroot 43 42 0 10:01 ? 00:00:00 sh\n';
  const r = parsePs(out, new Set([42, 43]));
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '42', '40', '0', '10:01', '?', '00:00:00', 'sleep 1000 --flag'],
    ['root', '43', '42', '0', '10:01', '?', '00:00:00', 'sh'],
  ]);
  assert.throws(() => parsePs('USER COMMAND\nroot x\n', new Set([1])), /Couldn't find PID field/);
});

test('stats row: the docker CLI\'s CPU %, memory without inactive file, net and block I/O sums', () => {
  const row = statsRow(
    {
      read: '',
      preread: '',
      id: 'a'.repeat(64),
      name: '/web',
      pids_stats: { current: 3 },
      cpu_stats: { cpu_usage: { total_usage: 2_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
      memory_stats: { usage: 3 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { total_inactive_file: 1024 * 1024 } },
      blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 1000 }, { major: 8, minor: 0, op: 'Write', value: 2000 }] },
      networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 } },
    },
    '/web',
    false,
  );
  assert.deepEqual(row, { Container: 'aaaaaaaaaaaa', ID: 'aaaaaaaaaaaa', Name: 'web', CPUPerc: '20.00%', MemUsage: '2MiB / 64MiB', MemPerc: '3.13%', NetIO: '1.5kB / 500B', BlockIO: '1kB / 2kB', PIDs: '3' });
});

test('update flags: only what is given, docker\'s units and restart policy syntax', () => {
  assert.deepEqual(updateBody({ memory: '64m', cpus: '1.5', pidsLimit: '-1', restart: 'on-failure:3' }), { Memory: 64 * 1024 * 1024, NanoCpus: 1_500_000_000, PidsLimit: -1, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } });
  assert.deepEqual(updateBody({}), {});
  assert.throws(() => updateBody({ cpuShares: 'x' }), /invalid argument "x" for "--cpu-shares"/);
});
