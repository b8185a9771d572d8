// Conformance: the rtnetlink path against iproute2 itself, in network namespaces this test makes
// (`unshare -n sleep`, gone with the process). Needs root, like the other conformance suites.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { configureNetnsViaNetlink, ipLines, type NetnsOp } from '../../src/os/net/netns-config.ts';
import { realNetHost } from '../../src/os/net/iproute.ts';

async function netns(): Promise<{ pid: number; child: ChildProcess; ip: (args: string[], input?: string) => string }> {
  const child = spawn('unshare', ['-n', 'sleep', '120'], { stdio: 'ignore' });
  const pid = child.pid!;
  // unshare execs sleep once the netns exists
  for (let i = 0; i < 200 && readlinkSync(`/proc/${pid}/exe`).endsWith('/unshare'); i++) await sleep(5);
  const ip = (args: string[], input?: string): string => execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args], { input, encoding: 'utf8' });
  ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  return { pid, child, ip };
}

/** What a container sees: eth0's addresses (without the random link-local one), its flags, the routes. */
function view(ip: (args: string[]) => string): unknown {
  const [link] = JSON.parse(ip(['-j', 'addr', 'show', 'dev', 'eth0'])) as Array<{ flags: string[]; addr_info: Array<Record<string, unknown>> }>;
  const addrs = link!.addr_info.filter((a) => !String(a.local).startsWith('fe80')).map(({ family, local, prefixlen, scope, nodad }) => ({ family, local, prefixlen, scope, nodad }));
  return { flags: link!.flags, addrs, routes4: JSON.parse(ip(['-j', '-4', 'route'])), routes6: JSON.parse(ip(['-j', '-6', 'route'])).filter((r: { dst: string }) => !r.dst.startsWith('fe80')) };
}

const OPS: NetnsOp[] = [
  { op: 'addr', dev: 'eth0', cidr: '172.31.7.2/24' },
  { op: 'addr', dev: 'eth0', cidr: 'fd00:7::2/64', nodad: true },
  { op: 'up', dev: 'eth0' },
  { op: 'default-route', dev: 'eth0', gateway: '172.31.7.1' },
  { op: 'default-route', dev: 'eth0', gateway: 'fd00:7::1' },
];

test('netlink configuration of a netns equals `ip -batch` of the same ops; errors in iproute2 words', async () => {
  const home = readlinkSync('/proc/thread-self/ns/net');
  const a = await netns();
  const b = await netns();
  try {
    assert.equal(await configureNetnsViaNetlink(a.pid, OPS), true);
    b.ip(['-batch', '-'], ipLines(OPS).join('\n') + '\n');
    const got = view(a.ip);
    assert.deepEqual(got, view(b.ip));
    assert.equal((got as { addrs: unknown[] }).addrs.length, 2);
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), home, 'the daemon thread is back in its own netns');

    await assert.rejects(configureNetnsViaNetlink(a.pid, [OPS[0]!]), /ip: addr add 172\.31\.7\.2\/24 dev eth0: RTNETLINK answers: File exists/);
    await assert.rejects(configureNetnsViaNetlink(a.pid, [{ op: 'up', dev: 'eth9' }]), /ip: Cannot find device "eth9"/);
    await assert.rejects(configureNetnsViaNetlink(2 ** 22 + 1, OPS), { code: 'ENOENT' });
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), home);

    // The host interface waits for `after` (the host batch) and reports its failure.
    await assert.rejects(realNetHost.configureNetns(a.pid, OPS, { after: Promise.reject(new Error('host batch failed')) }), /host batch failed/);
    await realNetHost.configureNetns(a.pid, [{ op: 'up', dev: 'peer0' }], { after: Promise.resolve() });
    assert.ok((JSON.parse(a.ip(['-j', 'link', 'show', 'dev', 'peer0'])) as Array<{ flags: string[] }>)[0]!.flags.includes('UP'));
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  }
});
