// Interleaved A/B of `docker run --rm busybox true` and the API replay between two built trees
// (e.g. main's build vs a patched one) on a busy machine: both daemons run side by side and every
// round times A then B (then B then A), so load from other work hits both alike.
//
//   node bench/ab-run.ts --a DIR --b DIR [--runs 20] [--warmups 2] [--a-args '...'] [--b-args '...']
//
// Needs root and both trees built (bin/, dist/). Prints medians and p90s per tree; writes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBusyboxRootfsTar } from '../test/helpers/busybox.ts';
import { startBerthd, berthTree, type Engine } from './lib/engines.ts';
import { apiPrefix, eventRecorder, replayRun, summarizeReplay, type ReplaySample } from './lib/phases.ts';
import { logStep, ms, onCleanup, run, runBench, summarize } from './lib/util.ts';

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    runs: { type: 'string', default: '20' },
    warmups: { type: 'string', default: '2' },
    'a-args': { type: 'string', default: '' },
    'b-args': { type: 'string', default: '' },
    'no-replay': { type: 'boolean', default: false },
  },
});
const RUNS = Math.max(1, Number(flags.runs));
const WARMUPS = Math.max(0, Number(flags.warmups));

async function startTree(root: string, busyboxTar: string, extra: string): Promise<Engine> {
  berthTree.root = root;
  const e = await startBerthd(busyboxTar, extra.split(/\s+/).filter(Boolean));
  const stop = e.stop;
  // stop() runs `<tree>/bin/berthd --cleanup`: point berthTree at the right tree again.
  e.stop = async () => {
    berthTree.root = root;
    await stop();
  };
  onCleanup(root, e.stop);
  return e;
}

async function main(): Promise<void> {
  if (!flags.a || !flags.b) throw new Error('--a DIR --b DIR');
  const fixture = mkdtempSync('/tmp/berth-ab-fixture-');
  onCleanup('fixture', () => rmSync(fixture, { recursive: true, force: true }));
  const tar = await makeBusyboxRootfsTar(join(fixture, 'busybox.tar'));
  const engines = { A: await startTree(flags.a, tar, flags['a-args']), B: await startTree(flags.b, tar, flags['b-args']) };
  const cli: Record<'A' | 'B', number[]> = { A: [], B: [] };
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (const k of (i % 2 ? ['B', 'A'] : ['A', 'B']) as Array<'A' | 'B'>) {
      const r = await run('docker', ['run', '--rm', 'busybox', 'true'], { env: engines[k].env, timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`${k}: docker run failed: ${r.stderr}`);
      if (i >= WARMUPS) cli[k].push(r.ms);
    }
  }
  for (const k of ['A', 'B'] as const) {
    const s = summarize(cli[k]);
    logStep(`${k} docker run --rm: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms (${flags[k === 'A' ? 'a' : 'b']})`);
  }
  if (flags['no-replay']) return;
  const rec: Record<'A' | 'B', { prefix: string; times: Awaited<ReturnType<typeof eventRecorder>> }> = {} as never;
  for (const k of ['A', 'B'] as const) {
    const prefix = await apiPrefix(engines[k].socket!);
    rec[k] = { prefix, times: await eventRecorder(engines[k].socket!, prefix) };
  }
  const samples: Record<'A' | 'B', ReplaySample[]> = { A: [], B: [] };
  for (let i = 0; i < WARMUPS + RUNS; i++) {
    for (const k of (i % 2 ? ['B', 'A'] : ['A', 'B']) as Array<'A' | 'B'>) {
      const s = await replayRun(engines[k].socket!, rec[k].prefix, rec[k].times.times);
      if (i >= WARMUPS) samples[k].push(s);
    }
  }
  for (const k of ['A', 'B'] as const) {
    rec[k].times.close();
    const r = summarizeReplay(samples[k]);
    logStep(`${k} replay: ${Object.entries(r).map(([p, s]) => `${p} ${ms(s.median)}`).join(', ')}`);
  }
}

await runBench(main);
