// Issue 6 acceptance: a macvlan network on a veth parent (this kernel has no dummy links) gives a
// container an address reachable from the veth peer's namespace. The test makes the veth pair and
// the peer's netns itself (named with the daemon's prefix, so the leak check covers them).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { useDaemon, docker } from '../helpers/daemon.ts';

const daemon = useDaemon();
let holder: ChildProcess | undefined;

after(() => {
  holder?.kill('SIGKILL'); // the netns dies with it, and the veth pair with the netns
});

async function ok(args: string[]): Promise<string> {
  const r = await docker(daemon(), args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${daemon().logs.slice(-3000)}`);
  return r.stdout;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('macvlan on a veth parent: the container is reachable from the peer namespace', async () => {
  const p = daemon().netPrefix;
  const [a, b, c] = daemon().netBase.split('.');
  const net = `${a}.${b}.${Number(c) + 3}`;
  // The "outside" network: a netns held by a sleeping process, with the veth peer in it.
  holder = spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  const pid = holder.pid!;
  sh('ip', ['link', 'add', `${p}mp`, 'type', 'veth', 'peer', 'name', `${p}mq`, 'netns', String(pid)]);
  sh('ip', ['link', 'set', `${p}mp`, 'up']);
  sh('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'addr', 'add', `${net}.254/26`, 'dev', `${p}mq`]);
  sh('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', `${p}mq`, 'up']);

  await ok(['network', 'create', '-d', 'macvlan', '-o', `parent=${p}mp`, '--subnet', `${net}.192/26`, '--gateway', `${net}.254`, 'mv']);
  try {
    const bad = await docker(daemon(), ['network', 'create', '-d', 'macvlan', '-o', `parent=${p}nope`, 'mvbad']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /parent interface was not found/);
    await ok(['run', '-d', '--name', 'mvweb', '--network', 'mv', 'busybox', 'sh', '-c', 'mkdir /www && echo via-macvlan > /www/index.html && exec httpd -f -p 80 -h /www']);
    const ip = (await ok(['inspect', '--format', '{{.NetworkSettings.Networks.mv.IPAddress}}', 'mvweb'])).trim();
    assert.ok(ip.startsWith(`${net}.`), ip);
    const ctrPid = (await ok(['inspect', '--format', '{{.State.Pid}}', 'mvweb'])).trim();
    assert.match(sh('nsenter', [`--net=/proc/${ctrPid}/ns/net`, 'ip', '-d', 'link', 'show', 'eth0']), /macvlan mode bridge/);
    let out = '';
    for (let i = 0; i < 30 && !out.includes('via-macvlan'); i++) {
      out = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 ${ip} 80`], { encoding: 'utf8' }).stdout;
      if (!out.includes('via-macvlan')) await new Promise((r) => setTimeout(r, 300));
    }
    assert.match(out, /via-macvlan/);
    await ok(['rm', '-f', 'mvweb']);
  } finally {
    await docker(daemon(), ['rm', '-f', 'mvweb']);
    await docker(daemon(), ['network', 'rm', 'mv']);
  }
});
