// Issue 6 acceptance: network connect/disconnect on a running container (a second interface, DNS
// on both networks), and the host, none and container:<id> network modes, with the real docker CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

const HTTPD = (body: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`];
const GET = (host: string): string => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} 80`;

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The IPv4 address of an interface inside a running container ('' if it has none). */
async function addrIn(ctr: string, ifname: string): Promise<string> {
  const r = await docker(daemon(), ['exec', ctr, 'ip', '-o', '-4', 'addr', 'show', 'dev', ifname]);
  return /inet (\S+)/.exec(r.stdout)?.[1] ?? '';
}

test('network connect adds an interface to a running container, DNS answers on both networks; disconnect removes it', async () => {
  await ok(['network', 'create', 'front']);
  await ok(['network', 'create', 'back']);
  try {
    await ok(['run', '-d', '--name', 'app', '--network', 'front', 'busybox', ...HTTPD('app')]);
    await ok(['run', '-d', '--name', 'db', '--network', 'back', 'busybox', ...HTTPD('db')]);
    assert.equal(await addrIn('app', 'eth1'), '');
    await ok(['network', 'connect', '--alias', 'api', 'back', 'app']);
    const backIp = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.back.IPAddress}}', 'app'])).trim();
    const frontIp = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.front.IPAddress}}', 'app'])).trim();
    assert.match(backIp, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal((await addrIn('app', 'eth1')).split('/')[0], backIp);
    assert.equal((await addrIn('app', 'eth0')).split('/')[0], frontIp);
    // From app: a name on each network resolves and answers.
    const dbIp = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.back.IPAddress}}', 'db'])).trim();
    assert.match(await ok(['exec', 'app', 'nslookup', 'db']), new RegExp(`Address: ${dbIp.replace(/\./g, '\\.')}`));
    assert.match(await ok(['exec', 'app', 'nslookup', 'app']), new RegExp(`Address: ${frontIp.replace(/\./g, '\\.')}`));
    let body = '';
    await eventually(async () => (body = (await docker(daemon(), ['exec', 'app', 'sh', '-c', GET('db')])).stdout).includes('db'), 'app → db over the second network');
    // From the back network: app is known by name and by its alias there, at its back address.
    assert.match(await ok(['exec', 'db', 'nslookup', 'app']), new RegExp(`Address: ${backIp.replace(/\./g, '\\.')}`));
    assert.match(await ok(['exec', 'db', 'nslookup', 'api']), new RegExp(`Address: ${backIp.replace(/\./g, '\\.')}`));
    await eventually(async () => (await docker(daemon(), ['exec', 'db', 'sh', '-c', GET('api')])).stdout.includes('app'), 'db → app by alias');
    const members = await ok(['network', 'inspect', '--format', '{{range $id, $c := .Containers}}{{$c.Name}} {{end}}', 'back']);
    assert.deepEqual(members.trim().split(' ').sort(), ['app', 'db']);

    await ok(['network', 'disconnect', 'back', 'app']);
    assert.equal(await addrIn('app', 'eth1'), '');
    const gone = await docker(daemon(), ['exec', 'db', 'nslookup', 'app']);
    assert.notEqual(gone.code, 0, gone.stdout);
    const nets = await ok(['inspect', '--format', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{end}}', 'app']);
    assert.equal(nets.trim(), 'front');
    // Disconnecting again is an error; connecting an unknown container is a 404.
    assert.notEqual((await docker(daemon(), ['network', 'disconnect', 'back', 'app'])).code, 0);
    const missing = await docker(daemon(), ['network', 'connect', 'back', 'nosuchcontainer']);
    assert.match(missing.stderr, /No such container: nosuchcontainer/);
  } finally {
    await docker(daemon(), ['rm', '-f', 'app', 'db']);
    await docker(daemon(), ['network', 'rm', 'front', 'back']);
  }
});

test('connect a stopped container: the interface appears at its next start', async () => {
  await ok(['network', 'create', 'later']);
  try {
    await ok(['create', '--name', 'sleeper', 'busybox', 'sleep', '60']);
    await ok(['network', 'connect', 'later', 'sleeper']);
    await ok(['start', 'sleeper']);
    assert.match(await addrIn('sleeper', 'eth0'), /^\d+\./);
    assert.match(await addrIn('sleeper', 'eth1'), /^\d+\./);
  } finally {
    await docker(daemon(), ['rm', '-f', 'sleeper']);
    await docker(daemon(), ['network', 'rm', 'later']);
  }
});

test('--network host sees the host\'s interfaces; --network none has only lo', async () => {
  // Other daemons on this machine may add or remove links meanwhile: compare with the host's
  // links before and after (the container must see every stable one and nothing else).
  const before = new Set(readdirSync('/sys/class/net'));
  const host = new Set((await ok(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net'])).trim().split(/\s+/));
  const after = new Set(readdirSync('/sys/class/net'));
  for (const l of before) if (after.has(l)) assert.ok(host.has(l), `host link ${l} not seen`);
  for (const l of host) assert.ok(before.has(l) || after.has(l), `${l} is not a host link`);
  assert.ok(host.has('eth0') && host.has('lo'));
  const none = await ok(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
  assert.deepEqual(none.trim().split(/\s+/), ['lo']);
  const noneAddr = await ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'addr']);
  assert.doesNotMatch(noneAddr, /eth/);
  const id = (await ok(['create', '--network', 'none', 'busybox', 'true'])).trim();
  const nets = await ok(['inspect', '--format', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}}{{end}}', id]);
  assert.equal(nets.trim(), 'none');
  await ok(['rm', id]);
  const connectHost = await docker(daemon(), ['network', 'connect', 'host', (await ok(['create', '--name', 'plain', 'busybox', 'true'])).trim()]);
  assert.notEqual(connectHost.code, 0);
  await ok(['rm', 'plain']);
});

test('--network container:<id> shares the other container\'s netns', async () => {
  await ok(['run', '-d', '--name', 'owner', 'busybox', 'sleep', '60']);
  try {
    const ip = (await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'owner'])).trim();
    const seen = await ok(['run', '--rm', '--network', 'container:owner', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    assert.match(seen, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    const pub = await docker(daemon(), ['run', '--rm', '--network', 'container:owner', '-p', '80', 'busybox', 'true']);
    assert.notEqual(pub.code, 0);
  } finally {
    await docker(daemon(), ['rm', '-f', 'owner']);
  }
});

test('network create/inspect/ls/prune: options, labels, --internal, --subnet, --ip', async () => {
  const [a, b, c] = daemon().netBase.split('.');
  const subnet = `${a}.${b}.${Number(c) + 2}.0/26`;
  await ok(['network', 'create', '--subnet', subnet, '--gateway', `${a}.${b}.${Number(c) + 2}.62`, '--label', 'team=net', '--internal', 'inner']);
  try {
    const info = JSON.parse(await ok(['network', 'inspect', '--format', '{{json .}}', 'inner']));
    assert.equal(info.Driver, 'bridge');
    assert.equal(info.Internal, true);
    assert.deepEqual(info.IPAM.Config, [{ Subnet: subnet, Gateway: `${a}.${b}.${Number(c) + 2}.62` }]);
    assert.deepEqual(info.Labels, { team: 'net' });
    const fixed = `${a}.${b}.${Number(c) + 2}.10`;
    const addr = await ok(['run', '--rm', '--network', 'inner', '--ip', fixed, 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr, new RegExp(`inet ${fixed.replace(/\./g, '\\.')}/26`));
    // Internal: no default route out.
    assert.doesNotMatch(await ok(['run', '--rm', '--network', 'inner', 'busybox', 'ip', 'route']), /default/);
    const ls = await ok(['network', 'ls', '--filter', 'label=team=net', '--format', '{{.Name}}']);
    assert.equal(ls.trim(), 'inner');
    const dup = await docker(daemon(), ['network', 'create', 'inner']);
    assert.notEqual(dup.code, 0);
    const overlap = await docker(daemon(), ['network', 'create', '--subnet', subnet, 'inner2']);
    assert.notEqual(overlap.code, 0);
    assert.notEqual((await docker(daemon(), ['network', 'rm', 'bridge'])).code, 0, 'predefined networks stay');
  } finally {
    await docker(daemon(), ['network', 'rm', 'inner']);
  }
  await ok(['network', 'create', 'unused1']);
  const prune = await ok(['network', 'prune', '-f']);
  assert.match(prune, /unused1/);
  assert.deepEqual((await ok(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n').sort(), ['bridge', 'host', 'none']);
});

test('an alias shared by two containers answers with both (round robin); PTR names the container', async () => {
  await ok(['network', 'create', 'rr']);
  try {
    await ok(['run', '-d', '--name', 'rr1', '--network', 'rr', '--network-alias', 'pool', 'busybox', 'sleep', '60']);
    await ok(['run', '-d', '--name', 'rr2', '--network', 'rr', '--network-alias', 'pool', 'busybox', 'sleep', '60']);
    const ips = await Promise.all(['rr1', 'rr2'].map(async (c) => (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.rr.IPAddress}}', c])).trim()));
    const out = await ok(['run', '--rm', '--network', 'rr', 'busybox', 'nslookup', 'pool']);
    for (const ip of ips) assert.match(out, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
    const ptr = await ok(['run', '--rm', '--network', 'rr', 'busybox', 'nslookup', ips[0]]);
    assert.match(ptr, /rr1\.rr/);
  } finally {
    await docker(daemon(), ['rm', '-f', 'rr1', 'rr2']);
    await docker(daemon(), ['network', 'rm', 'rr']);
  }
});

test('IPv6 on a user network: the container gets an address from --subnet, AAAA answers', async () => {
  // canonical groups (no leading zeros), as the daemon prints addresses
  const sub = `fd00:${parseInt(daemon().netPrefix.slice(2), 16).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}::`;
  await ok(['network', 'create', '--ipv6', '--subnet', `${sub}/64`, 'six']);
  try {
    await ok(['run', '-d', '--name', 'v6a', '--network', 'six', 'busybox', 'sleep', '60']);
    const ip6 = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.six.GlobalIPv6Address}}', 'v6a'])).trim();
    assert.ok(ip6.startsWith(sub.replace(/::$/, ':')), ip6);
    const seen = await ok(['exec', 'v6a', 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(seen, new RegExp(`inet6 ${ip6}/64`));
    const aaaa = await ok(['run', '--rm', '--network', 'six', 'busybox', 'nslookup', '-type=AAAA', 'v6a']);
    assert.match(aaaa, new RegExp(`Address: ${ip6}`));
    // Reachable over IPv6 from another container on the network.
    const ping = await docker(daemon(), ['run', '--rm', '--network', 'six', 'busybox', 'ping', '-6', '-c', '1', '-W', '3', ip6], { timeoutMs: 60_000 });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  } finally {
    await docker(daemon(), ['rm', '-f', 'v6a']);
    await docker(daemon(), ['network', 'rm', 'six']);
  }
});

test('ps --filter network=; a container whose network was removed while stopped fails to start with "not found"', async () => {
  await ok(['network', 'create', 'gone']);
  await ok(['run', '-d', '--name', 'ongone', '--network', 'gone', 'busybox', 'sleep', '60']);
  try {
    assert.equal((await ok(['ps', '--filter', 'network=gone', '--format', '{{.Names}}'])).trim(), 'ongone');
    assert.equal((await ok(['ps', '--filter', 'network=none', '--format', '{{.Names}}'])).trim(), '');
    await ok(['stop', '-t', '0', 'ongone']);
    await ok(['network', 'rm', 'gone']);
    const start = await docker(daemon(), ['start', 'ongone']);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /network gone not found/);
  } finally {
    await docker(daemon(), ['rm', '-f', 'ongone']);
    await docker(daemon(), ['network', 'rm', 'gone']);
  }
});
