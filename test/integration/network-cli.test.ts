// Issue 6: the berth CLI (through the typed client) for networks and ports, and the container's
// /etc/hosts and /etc/resolv.conf (--dns, --dns-search, --add-host with host-gateway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDaemon, docker, berth } from '../helpers/daemon.ts';

const daemon = useDaemon();

async function ok(run: typeof docker, args: string[]): Promise<string> {
  const r = await run(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-2000)}`);
  return r.stdout;
}

test('berth network create/ls/inspect/connect/disconnect/rm/prune', async () => {
  const id = (await ok(berth, ['network', 'create', '--label', 'k=v', 'bnet'])).trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ls = await ok(berth, ['network', 'ls']);
  assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
  assert.match(ls, new RegExp(`^${id.slice(0, 12)}\\s+bnet\\s+bridge\\s+local$`, 'm'));
  assert.equal((await ok(berth, ['network', 'ls', '-q', '--filter', 'name=bnet'])).trim(), id.slice(0, 12));
  assert.equal((await ok(berth, ['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{index .Labels "k"}}', 'bnet'])).trim(), 'bnet bridge v');
  await ok(berth, ['run', '-d', '--name', 'bc', 'busybox', 'sleep', '60']);
  await ok(berth, ['network', 'connect', '--alias', 'bee', 'bnet', 'bc']);
  const nets = await ok(docker, ['inspect', '--format', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{$e.Aliases}} {{end}}', 'bc']);
  assert.match(nets, /bnet=\[bee\]/);
  assert.match(nets, /bridge=/);
  await ok(berth, ['network', 'disconnect', 'bnet', 'bc']);
  assert.doesNotMatch(await ok(docker, ['inspect', '--format', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{end}}', 'bc']), /bnet/);
  await ok(berth, ['rm', '-f', 'bc']);
  const missing = await berth(daemon(), ['network', 'rm', 'nosuchnet']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /network nosuchnet not found/);
  assert.equal((await ok(berth, ['network', 'rm', 'bnet'])).trim(), 'bnet');
  await ok(berth, ['network', 'create', 'bprune']);
  // Without -f the prune commands ask first; anything but y/yes keeps everything.
  const declined = await berth(daemon(), ['network', 'prune'], { input: 'n\n' });
  assert.equal(declined.code, 0, declined.stderr);
  assert.match(declined.stdout, /WARNING! This will remove all custom networks not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] $/);
  assert.match(await ok(berth, ['network', 'ls', '-q', '--filter', 'name=bprune']), /\S/);
  const builderDeclined = await berth(daemon(), ['builder', 'prune'], { input: 'no\n' });
  assert.match(builderDeclined.stdout, /^WARNING! This will remove all dangling build cache\.\nAre you sure you want to continue\? \[y\/N\] $/);
  const accepted = await berth(daemon(), ['network', 'prune'], { input: 'y\n' });
  assert.match(accepted.stdout, /Deleted Networks:\nbprune/);
});

test('berth run -p and berth port', async () => {
  await ok(berth, ['run', '-d', '--name', 'bp', '-p', '127.0.0.1::80', '--expose', '81', 'busybox', 'sleep', '60']);
  try {
    const port = (await ok(berth, ['port', 'bp'])).trim();
    assert.match(port, /^80\/tcp -> 127\.0\.0\.1:\d+$/);
    assert.equal((await ok(berth, ['port', 'bp', '80'])).trim(), port.split(' -> ')[1]);
    const ps = await ok(berth, ['ps', '--filter', 'name=bp', '--format', '{{.Ports}}']);
    assert.match(ps, /127\.0\.0\.1:\d+->80\/tcp/);
    assert.match(ps, /81\/tcp/);
    assert.equal((await berth(daemon(), ['port', 'bp', '81'])).code, 1);
  } finally {
    await berth(daemon(), ['rm', '-f', 'bp']);
  }
});

test('--dns, --dns-search, --dns-option and --add-host (host-gateway) shape resolv.conf and hosts', async () => {
  const gw = (await ok(docker, ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'bridge'])).trim();
  const out = await ok(docker, ['run', '--rm', '--dns', '192.0.2.53', '--dns-search', 'example.test', '--dns-option', 'ndots:2', '--add-host', 'db.local:192.0.2.10', '--add-host', 'host.docker.internal:host-gateway', '--hostname', 'myhost', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; echo ---; cat /etc/hosts']);
  const [resolv, hosts] = out.split('---\n');
  assert.match(resolv, /^nameserver 192\.0\.2\.53$/m);
  assert.match(resolv, /^search example\.test$/m);
  assert.match(resolv, /^options ndots:2$/m);
  assert.match(hosts, /^192\.0\.2\.10\tdb\.local$/m);
  assert.match(hosts, new RegExp(`^${gw.replace(/\./g, '\\.')}\\thost\\.docker\\.internal$`, 'm'));
  assert.match(hosts, /^\d+\.\d+\.\d+\.\d+\tmyhost$/m);
  // On a user network the embedded DNS is the nameserver, and --dns becomes its upstream.
  await ok(docker, ['network', 'create', 'dnsnet']);
  try {
    const user = await ok(docker, ['run', '--rm', '--network', 'dnsnet', '--dns', '192.0.2.53', '--dns-search', 'example.test', 'busybox', 'cat', '/etc/resolv.conf']);
    const ugw = (await ok(docker, ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'dnsnet'])).trim();
    assert.deepEqual(user.trim().split('\n'), [`nameserver ${ugw}`, 'search example.test']);
  } finally {
    await docker(daemon(), ['network', 'rm', 'dnsnet']);
  }
});
