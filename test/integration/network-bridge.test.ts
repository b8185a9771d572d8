// Issue 6 acceptance: the default bridge, user-defined bridges, the embedded DNS (names resolve
// to containers on the same network) and isolation between networks, with the real docker CLI.
// Traffic only goes between containers this file starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();

/** A busybox httpd serving `body` at / on port 80. */
const HTTPD = (body: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`];
/** An HTTP GET through busybox nc (its wget crashes in a bare rootfs). */
const GET = (host: string): string => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} 80`;

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

/** Retry a command in a fresh container until its output matches (the server may still be starting). */
async function eventually(args: string[], re: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 30; i++) {
    const r = await docker(daemon(), args, { timeoutMs: 60_000 });
    last = r.stdout + r.stderr;
    if (r.code === 0 && re.test(r.stdout)) return r.stdout;
    await new Promise((res) => setTimeout(res, 300));
  }
  assert.fail(`no match for ${re} from docker ${args.join(' ')}: ${last}`);
}

test('network ls shows the predefined networks; the default bridge has the daemon\'s subnet', async () => {
  const ls = await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']);
  assert.deepEqual(ls.trim().split('\n').sort(), ['bridge bridge', 'host host', 'none null']);
  const subnet = (await ok(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge'])).trim();
  const base = daemon().netBase.split('.').slice(0, 3).join('.');
  assert.equal(subnet, `${base}.0/26 ${base}.1`);
  const opts = await ok(['network', 'inspect', '--format', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge']);
  assert.equal(opts.trim(), `${daemon().netPrefix}0`);
});

test('a container on the default bridge gets an address, a route to the gateway and reaches another container', async () => {
  const id = (await ok(['run', '-d', '--name', 'defweb', 'busybox', ...HTTPD('default-bridge')])).trim();
  try {
    const ip = (await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id])).trim();
    const base = daemon().netBase.split('.').slice(0, 3).join('.');
    assert.ok(ip.startsWith(`${base}.`), ip);
    const viaNetworks = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}}', id])).trim();
    assert.equal(viaNetworks, `${ip} ${base}.1`);
    const routes = await ok(['run', '--rm', 'busybox', 'ip', 'route']);
    assert.match(routes, new RegExp(`default via ${base.replace(/\./g, '\\.')}\\.1 dev eth0`));
    await eventually(['run', '--rm', 'busybox', 'sh', '-c', GET(ip)], /default-bridge/);
    const hosts = await ok(['exec', id, 'cat', '/etc/hosts']).catch(() => '');
    if (hosts) assert.match(hosts, new RegExp(`${ip.replace(/\./g, '\\.')}\\s`));
    const inNet = await ok(['network', 'inspect', '--format', '{{range $k, $v := .Containers}}{{$v.Name}} {{$v.IPv4Address}}{{end}}', 'bridge']);
    assert.match(inNet, new RegExp(`defweb ${ip.replace(/\./g, '\\.')}/26`));
  } finally {
    await docker(daemon(), ['rm', '-f', id]);
  }
});

test('two containers on a user network reach each other by name; a container on another network cannot', async () => {
  await ok(['network', 'create', 'neta']);
  await ok(['network', 'create', 'netb']);
  try {
    await ok(['run', '-d', '--name', 'weba', '--network', 'neta', '--network-alias', 'www', 'busybox', ...HTTPD('hello-from-a')]);
    // By container name and by alias, through the embedded DNS.
    await eventually(['run', '--rm', '--network', 'neta', 'busybox', 'sh', '-c', GET('weba')], /hello-from-a/);
    await eventually(['run', '--rm', '--network', 'neta', 'busybox', 'sh', '-c', GET('www')], /hello-from-a/);
    const ip = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.neta.IPAddress}}', 'weba'])).trim();
    const ns = await ok(['run', '--rm', '--network', 'neta', 'busybox', 'nslookup', 'weba']);
    assert.match(ns, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
    const resolv = await ok(['run', '--rm', '--network', 'neta', 'busybox', 'cat', '/etc/resolv.conf']);
    const gw = (await ok(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'neta'])).trim();
    assert.match(resolv, new RegExp(`^nameserver ${gw.replace(/\./g, '\\.')}$`, 'm'));
    // Another network: the name does not resolve there, and the address is unreachable.
    const other = await docker(daemon(), ['run', '--rm', '--network', 'netb', 'busybox', 'nslookup', 'weba'], { timeoutMs: 60_000 });
    assert.notEqual(other.code, 0, other.stdout);
    const blocked = await docker(daemon(), ['run', '--rm', '--network', 'netb', 'busybox', 'sh', '-c', GET(ip)], { timeoutMs: 60_000 });
    assert.doesNotMatch(blocked.stdout, /hello-from-a/);
    // A network in use cannot be removed (dockerd: 403, "has active endpoints").
    const rm = await docker(daemon(), ['network', 'rm', 'neta']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /has active endpoints/);
  } finally {
    await docker(daemon(), ['rm', '-f', 'weba']);
    await docker(daemon(), ['network', 'rm', 'neta', 'netb']);
  }
  const ls = await ok(['network', 'ls', '--format', '{{.Name}}']);
  assert.doesNotMatch(ls, /neta|netb/);
});
