// Issue 6 acceptance: kill -9 berthd and start it again; running containers keep their addresses
// and connectivity (DNS, published ports), and IPAM does not hand out an address in use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

const HTTPD = (body: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${body} > /www/index.html && exec httpd -f -p 80 -h /www`];

async function eventually<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 40; i++) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

function fetchLocal(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function ipOn(ctr: string, net: string): Promise<string> {
  return (await ok(['inspect', '--format', `{{.NetworkSettings.Networks.${net}.IPAddress}}`, ctr])).trim();
}

test('after kill -9 and a restart, running containers keep addresses, names and published ports', async () => {
  await ok(['network', 'create', 'keep']);
  await ok(['run', '-d', '--name', 'kept', '--network', 'keep', 'busybox', ...HTTPD('still-here')]);
  await ok(['run', '-d', '--name', 'pub', '-p', '127.0.0.1:0:80', 'busybox', ...HTTPD('published')]);
  const keptIp = await ipOn('kept', 'keep');
  const pubIp = await ipOn('pub', 'bridge');
  const port = Number(/:(\d+)$/.exec((await ok(['port', 'pub', '80'])).trim())![1]);
  assert.equal(await eventually(() => fetchLocal(port), 'published port before the crash'), 'published\n');

  await daemon().kill9();
  // While berthd is down the kernel keeps forwarding: the DNAT rules live in nftables.
  assert.equal(await eventually(() => fetchLocal(port), 'published port while berthd is down'), 'published\n');
  await daemon().start();

  assert.equal(await ipOn('kept', 'keep'), keptIp);
  assert.equal(await ipOn('pub', 'bridge'), pubIp);
  assert.equal((await ok(['port', 'pub', '80'])).trim(), `127.0.0.1:${port}`);
  assert.equal(await eventually(() => fetchLocal(port), 'published port after the restart'), 'published\n');
  // The embedded DNS serves again, and the old container still answers by name.
  const body = await eventually(async () => {
    const r = await docker(daemon(), ['run', '--rm', '--network', 'keep', 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 kept 80`], { timeoutMs: 60_000 });
    return r.stdout.includes('still-here') ? r.stdout : undefined;
  }, 'kept by name after the restart');
  assert.match(body, /still-here/);
  // New containers get other addresses than the ones in use.
  for (let i = 0; i < 3; i++) {
    const ip = (await ok(['run', '--rm', '--network', 'keep', 'busybox', 'sh', '-c', 'ip -o -4 addr show dev eth0'])).match(/inet (\d+\.\d+\.\d+\.\d+)/)?.[1];
    assert.ok(ip && ip !== keptIp, `new address ${ip} must differ from ${keptIp}`);
    const ipb = (await ok(['run', '--rm', 'busybox', 'sh', '-c', 'ip -o -4 addr show dev eth0'])).match(/inet (\d+\.\d+\.\d+\.\d+)/)?.[1];
    assert.ok(ipb && ipb !== pubIp, `new address ${ipb} must differ from ${pubIp}`);
  }
  await ok(['rm', '-f', 'kept', 'pub']);
  await ok(['network', 'rm', 'keep']);
});

test('a container that exited while berthd was down releases its address and port at the restart', async () => {
  await ok(['run', '-d', '--name', 'brief', '-p', '127.0.0.1:0:80', 'busybox', 'sh', '-c', 'sleep 2']);
  const port = (await ok(['port', 'brief', '80'])).trim();
  await daemon().kill9();
  await new Promise((r) => setTimeout(r, 3000));
  await daemon().start();
  const st = await eventually(async () => {
    const s = (await ok(['inspect', '--format', '{{.State.Status}}', 'brief'])).trim();
    return s === 'exited' ? s : undefined;
  }, 'the exit to be recorded');
  assert.equal(st, 'exited');
  assert.equal((await ok(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'brief'])).trim(), '{}');
  const nets = (await ok(['network', 'inspect', '--format', '{{len .Containers}}', 'bridge'])).trim();
  assert.equal(nets, '0');
  assert.ok(port);
  await ok(['rm', 'brief']);
});

test('berthd --cleanup removes every bridge, veth and the nft table; the next start recreates the networks', async () => {
  const { spawnSync } = await import('node:child_process');
  const { NODE, BERTHD, testNetObjects } = await import('../helpers/daemon.ts');
  await ok(['network', 'create', 'again']);
  await ok(['run', '-d', '--name', 'stays', '--network', 'again', 'busybox', 'sleep', '300']);
  const d = daemon();
  const mine = new RegExp(`^${d.netPrefix}`);
  const before = testNetObjects(mine);
  assert.ok(before.links.length >= 3, `bridges and a veth exist: ${before.links.join(', ')}`);
  assert.equal(before.tables.length, 1);
  await ok(['rm', '-f', 'stays']);
  await d.stop(); // SIGTERM: networks stay, as with dockerd
  assert.ok(testNetObjects(mine).links.length >= 2, 'networks survive a SIGTERM');
  const r = spawnSync(NODE, [BERTHD, '--cleanup', '--data-root', d.dataRoot, '--exec-root', d.execRoot, ...d.netArgs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(testNetObjects(mine), { links: [], tables: [] });
  await d.start();
  // Reconcile at start: the records are still there, the kernel objects are made again.
  assert.ok(testNetObjects(mine).links.length >= 2);
  assert.equal(testNetObjects(mine).tables.length, 1);
  const out = await ok(['run', '--rm', '--network', 'again', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
  assert.match(out, /inet \d+\.\d+\.\d+\.\d+\//);
  await ok(['network', 'rm', 'again']);
});
