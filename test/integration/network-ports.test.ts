// Issue 6 acceptance: published ports (nftables DNAT; 127.0.0.1 through route_localnet), docker
// port / ps / inspect, -P, conflicts. Traffic: host loopback and this file's containers only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { spawnSync } from 'node:child_process';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

/** GET http://127.0.0.1:port/path from the host, retried while the server starts. */
async function fetchLocal(port: number, path: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`GET 127.0.0.1:${port}${path} failed: ${String(last)}`);
}

function nftTable(): string {
  return spawnSync('nft', ['list', 'table', 'inet', daemon().netPrefix], { encoding: 'utf8' }).stdout;
}

test('docker run -d -p 127.0.0.1:0:80 busybox httpd: the host fetches a file over the published port; docker port shows it', async () => {
  const id = (await ok(['run', '-d', '-p', '127.0.0.1:0:80', 'busybox', 'httpd', '-f', '-p', '80'])).trim();
  try {
    const port = (await ok(['port', id])).trim();
    const m = /^80\/tcp -> 127\.0\.0\.1:(\d+)$/.exec(port);
    assert.ok(m, port);
    const hostPort = Number(m[1]);
    assert.ok(hostPort > 0);
    assert.equal((await ok(['port', id, '80'])).trim(), `127.0.0.1:${hostPort}`);
    // busybox httpd serves its working directory (/): /etc/hostname is the short container ID.
    assert.equal((await fetchLocal(hostPort, '/etc/hostname')).trim(), id.slice(0, 12));
    const ps = await ok(['ps', '--filter', `id=${id}`, '--format', '{{.Ports}}']);
    assert.equal(ps.trim(), `127.0.0.1:${hostPort}->80/tcp`);
    const ports = JSON.parse(await ok(['inspect', '--format', '{{json .NetworkSettings.Ports}}', id]));
    assert.deepEqual(ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
    assert.match(nftTable(), new RegExp(`tcp dport ${hostPort} dnat`));
    // Test daemons run with --no-egress: nothing leaves the host's berth bridges.
    assert.match(nftTable(), /iifname @bridges oifname != @bridges drop/);
    // The port is held: another container cannot publish it (and leaves nothing behind).
    const clash = await docker(daemon(), ['run', '-d', '--name', 'clash', '-p', `127.0.0.1:${hostPort}:80`, 'busybox', 'httpd', '-f', '-p', '80'], { timeoutMs: 60_000 });
    assert.equal(clash.code, 125, clash.stderr);
    assert.match(clash.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${hostPort} failed: port is already allocated`));
    const clashNet = await ok(['inspect', '--format', '{{.State.Status}} {{json .NetworkSettings.Networks.bridge.IPAddress}}', 'clash']);
    assert.equal(clashNet.trim(), 'created ""');
    await ok(['rm', 'clash']);
  } finally {
    await docker(daemon(), ['rm', '-f', id]);
  }
  assert.doesNotMatch(nftTable(), /dnat (ip|to)/, 'the DNAT rule went with the container');
});

test('-P publishes exposed ports on ephemeral host ports, reachable from another container through the gateway', async () => {
  const id = (await ok(['run', '-d', '--expose', '80', '-P', 'busybox', 'sh', '-c', 'mkdir /www && echo published > /www/index.html && exec httpd -f -p 80 -h /www'])).trim();
  try {
    const port = (await ok(['port', id, '80/tcp'])).trim().split('\n')[0];
    const m = /^0\.0\.0\.0:(\d+)$/.exec(port);
    assert.ok(m, port);
    const gw = (await ok(['inspect', '--format', '{{.NetworkSettings.Gateway}}', id])).trim();
    let out = '';
    for (let i = 0; i < 30 && !out.includes('published'); i++) {
      out = (await docker(daemon(), ['run', '--rm', 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${gw} ${m[1]}`], { timeoutMs: 60_000 })).stdout;
      if (!out.includes('published')) await new Promise((r) => setTimeout(r, 300));
    }
    assert.match(out, /published/);
    assert.equal((await fetchLocal(Number(m[1]), '/')).trim(), 'published');
  } finally {
    await docker(daemon(), ['rm', '-f', id]);
  }
});

test('invalid port specs are refused at create', async () => {
  const r = await docker(daemon(), ['create', '-p', '127.0.0.1:99999:80', 'busybox']);
  assert.notEqual(r.code, 0);
});
