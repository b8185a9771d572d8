// Markdown for bench/RESULTS.md.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { LoadResult, Footprint } from './load.ts';
import type { Floors, ReplaySample } from './phases.ts';
import { cgroup2Mount, ms, sh, type Summary } from './util.ts';

export interface CliResult {
  label: string;
  summary?: Summary;
  failures: number;
  note?: string;
  /** Target median in ms, when the issue sets one. */
  target?: number;
}

export interface EngineResult {
  name: string;
  version?: string;
  skipped?: string;
  errors: string[];
  replay?: Record<keyof ReplaySample, Summary>;
  replayNote?: string;
  load?: LoadResult[];
  memory?: { idle: Footprint; loaded: Footprint; afterLoad?: Footprint; containers: number };
}

export interface Results {
  startedAt: Date;
  seconds: number;
  runs: number;
  warmups: number;
  cli: CliResult[];
  engines: EngineResult[];
  floors?: Floors;
  floorsError?: string;
  findings: string[];
}

/** Whether the host's cgroup2 mount has favordynmods (moves into cgroups skip an RCU grace period). */
function favorDynmods(): string {
  const cg = cgroup2Mount();
  if (!cg) return 'no cgroup2 mount';
  return `${cg.superOptions.includes('favordynmods') ? 'on' : 'off'} (${cg.target})`;
}

function machine(): string[] {
  const kernel = sh('uname', ['-r']).out;
  const cg = sh('stat', ['-fc', '%T', '/sys/fs/cgroup']).out === 'cgroup2fs' ? 'v2' : 'v1 (hybrid)';
  let model = cpus()[0]?.model ?? '?';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // keep os.cpus()
  }
  return [
    `- nproc: ${sh('nproc', []).out} (${model})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${kernel}; cgroup ${cg}; Debian ${sh('cat', ['/etc/debian_version']).out}`,
    `- cgroup2 favordynmods: ${favorDynmods()} (host-wide; berthd turns it on at start, so every engine in the run has it)`,
    `- date -u: ${sh('date', ['-u']).out}`,
    `- Node ${process.version}; docker CLI ${/version ([^,]+)/.exec(sh('docker', ['--version']).out)?.[1] ?? '?'}`,
  ];
}

const verdict = (value: number, target: number, lowerIsBetter = true): string =>
  !Number.isFinite(value) ? 'n/a' : (lowerIsBetter ? value <= target : value >= target) ? '**PASS**' : '**MISS**';

const PHASES: Array<[keyof ReplaySample, string]> = [
  ['ping', 'HEAD /_ping (new connection)'],
  ['create', 'POST /containers/create → 201'],
  ['attachWaitSetup', 'attach (101) + wait?condition=removed (headers), in parallel'],
  ['start', 'POST /start → 204 (mount, spec, conmon → runc create → runc start)'],
  ['startToDie', '204 → `die` event (exit detection)'],
  ['dieToDestroy', '`die` → `destroy` event (--rm removal)'],
  ['destroyToWait', '`destroy` → wait body returned'],
  ['startToAttachEof', '(start sent → attach stream EOF)'],
  ['total', '**total, API sequence only (no CLI process)**'],
];

export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  out.push(`## ${r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} — bench/run.ts (${r.runs} runs after ${r.warmups} warm-ups, ${r.seconds.toFixed(0)} s)`, '');
  out.push('### Machine', '', ...machine(), '');
  out.push('### Engines', '');
  for (const e of r.engines) out.push(`- **${e.name}**: ${e.skipped ? `skipped — ${e.skipped}` : e.version ?? '?'}`);
  out.push('');

  out.push('### 1. `run --rm busybox true`, wall time of the CLI process (ms)', '');
  out.push('| command → engine | median | p90 | min | max | failures | target (median) | verdict |', '|---|---:|---:|---:|---:|---:|---:|---|');
  for (const c of r.cli) {
    const s = c.summary;
    if (!s || s.n === 0) {
      out.push(`| ${c.label} | – | – | – | – | ${c.failures} | ${c.target ? `≤ ${c.target}` : ''} | ${c.note ?? 'not run'} |`);
      continue;
    }
    out.push(`| ${c.label}${c.note ? ` (${c.note})` : ''} | ${ms(s.median)} | ${ms(s.p90)} | ${ms(s.min)} | ${ms(s.max)} | ${c.failures} | ${c.target ? `≤ ${c.target}` : ''} | ${c.target ? verdict(s.median, c.target) : ''} |`);
  }
  out.push('');

  out.push('### 2. Where the time goes', '');
  for (const e of r.engines) {
    if (!e.replay) continue;
    out.push(`**${e.name}: the docker CLI's request sequence replayed by a Node client** (ms; events timestamped on arrival over a \`GET /events\` stream)${e.replayNote ? ` — ${e.replayNote}` : ''}`, '');
    out.push('| phase | median | p90 |', '|---|---:|---:|');
    for (const [k, label] of PHASES) {
      const s = e.replay[k];
      out.push(`| ${label} | ${s && s.n ? ms(s.median) : 'n/a'} | ${s && s.n ? ms(s.p90) : 'n/a'} |`);
    }
    out.push('');
  }
  if (r.floors) {
    out.push('**Floors (no daemon involved)** (ms)', '', '| what | median | p90 |', '|---|---:|---:|');
    for (const [k, v] of Object.entries(r.floors)) out.push(typeof v === 'string' ? `| ${k} | ${v} | |` : `| ${k} | ${ms(v.median)} | ${ms(v.p90)} |`);
    out.push('');
  } else if (r.floorsError) out.push(`Floors not measured: ${r.floorsError}`, '');

  out.push('### 3. `GET /containers/json?all=1`, 20 containers, 8 keep-alive clients', '');
  out.push('| engine | path | req/s | p50 ms | p99 ms | errors | bytes/response | target | verdict |', '|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const e of r.engines) {
    for (const l of e.load ?? []) {
      const isList = l.path.includes('/containers/json');
      out.push(`| ${e.name} | \`${l.path}\` | ${l.rps.toFixed(0)} | ${ms(l.p50)} | ${ms(l.p99)} | ${l.errors} | ${l.bytesPerResponse} | ${isList && e.name === 'berthd' ? '≥ 3000' : ''} | ${isList && e.name === 'berthd' ? verdict(l.rps, 3000, false) : ''} |`);
    }
  }
  out.push('', 'The `/_ping` row is the ceiling of this load generator (one Node process on the same 2 cores) against that daemon.', '');

  out.push('### 4. Resident memory (sum of VmRSS)', '');
  out.push('| engine | containers | total MB | breakdown | target | verdict |', '|---|---:|---:|---|---:|---|');
  for (const e of r.engines) {
    if (!e.memory) continue;
    const row = (label: string, f: Footprint, n: number, withTarget: boolean): string => {
      const parts = Object.entries(f.byRole).map(([role, v]) => `${role} ×${v.count}: ${v.mb.toFixed(1)}`).join('; ');
      return `| ${e.name} ${label} | ${n} | ${f.totalMb.toFixed(1)} | ${parts} | ${withTarget && e.name === 'berthd' ? '≤ 120' : ''} | ${withTarget && e.name === 'berthd' ? verdict(f.totalMb, 120) : ''} |`;
    };
    out.push(row('idle', e.memory.idle, 0, false));
    out.push(row('with `sleep 3600` containers', e.memory.loaded, e.memory.containers, true));
    if (e.memory.afterLoad) out.push(row('same, after the load test', e.memory.afterLoad, e.memory.containers, false));
  }
  out.push('');

  const errs = r.engines.flatMap((e) => e.errors.map((x) => `- ${e.name}: ${x}`));
  if (errs.length) out.push('### Errors during the run', '', ...errs, '');
  if (r.findings.length) out.push('### Observations (computed from the numbers above)', '', ...r.findings.map((f) => `- ${f}`), '');
  return out.join('\n');
}
