// Small helpers for the bench: statistics, timed process runs, /proc inspection, cleanup registry.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findCgroup2Mount } from '../../src/os/favordynmods.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now();

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of a sample (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? Number.NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { n, median, p90: percentile(s, 90), min: s[0] ?? Number.NaN, max: s[n - 1] ?? Number.NaN, mean: n ? s.reduce((a, b) => a + b, 0) / n : Number.NaN };
}

export const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a command to completion (bounded by timeoutMs, then SIGKILL) and time it from spawn to exit. */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; cwd?: string; ignoreStdio?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = now();
    // ignoreStdio: for commands whose children inherit stdio and outlive them (runc create).
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: opts.ignoreStdio ? 'ignore' : [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + e.message, ms: now() - t0 });
    });
    child.on(opts.ignoreStdio ? 'exit' : 'close', (code: number | null, signal: NodeJS.Signals | null) => {
      const t1 = now();
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 137 : 1), stdout, stderr, ms: t1 - t0 });
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** Synchronous command for setup/cleanup steps; returns trimmed stdout ('' on failure). */
export function sh(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, timeout: 60_000 });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** VmRSS of a process in kB (0 when it is gone). */
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface ProcInfo {
  pid: number;
  cmdline: string;
}

/** Every process whose command line satisfies `match`. */
export function findProcs(match: (p: ProcInfo) => boolean): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue;
    }
    const p = { pid: Number(name), cmdline };
    if (cmdline && match(p)) out.push(p);
  }
  return out;
}

/** Mount points at or under a directory (from /proc/self/mountinfo), deepest first. */
export function mountsUnder(dir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const ms = lines.map((l) => l.split(' ')[4]).filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
  return [...new Set(ms)].sort((a, b) => b.length - a.length);
}

/** Unmount everything under dir (lazy as a last resort). Returns what was still mounted. */
export function unmountUnder(dir: string): string[] {
  const found = mountsUnder(dir);
  for (const m of found) {
    if (!sh('umount', [m]).ok) sh('umount', ['-l', m]);
  }
  return found;
}

/** Remove a cgroup (v1: in every controller hierarchy) and its children, deepest first. */
export function removeCgroupTree(rel: string): string[] {
  const removed: string[] = [];
  const rm = (d: string): void => {
    let kids: string[] = [];
    try {
      kids = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name));
    } catch {
      return;
    }
    for (const k of kids) rm(k);
    try {
      rmdirSync(d);
      removed.push(d);
    } catch {
      // busy (a process is still in it) or already gone
    }
  };
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', ctrl, rel.replace(/^\/+/, ''));
    if (existsSync(d)) rm(d);
  }
  return removed;
}

/** LIFO cleanup actions, run once (on normal exit, error, or signal). */
const cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];
let cleaning: Promise<void> | undefined;

export function onCleanup(name: string, fn: () => Promise<void> | void): void {
  cleanups.push({ name, fn });
}

export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await Promise.race([c.fn(), sleep(60_000).then(() => Promise.reject(new Error('timed out')))]);
      } catch (err) {
        process.stderr.write(`bench: cleanup "${c.name}" failed: ${(err as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

export function logStep(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Print a results section and append it to bench/RESULTS.md (unless `noWrite`). */
export function publishResults(md: string, noWrite: boolean): void {
  process.stdout.write(md);
  if (noWrite) return;
  const file = join(import.meta.dirname, '..', 'RESULTS.md');
  if (!existsSync(file)) appendFileSync(file, '# berth benchmark results\n\nAppended by the scripts in bench/, newest last. See bench/README.md for what each number means.\n');
  appendFileSync(file, '\n' + md);
  logStep('appended to bench/RESULTS.md');
}

/**
 * berthd remounts the host's cgroup2 hierarchy with favordynmods when it starts (src/os/
 * favordynmods.ts); the setting is host-wide and speeds up every engine's runc. Applied here
 * before any measurement, so that floors and engines measured before berthd's first start run
 * under the same kernel setting as those after it. The report's Machine section says which.
 */
function favorDynmodsLikeBerthd(): void {
  const cg = cgroup2Mount();
  // a read-only mount is left alone, as berthd leaves it (a remount would make the super block read-only)
  if (!cg || cg.superOptions.includes('favordynmods') || cg.superOptions.includes('ro') || cg.mountOptions.includes('ro')) return;
  const r = sh('mount', ['-o', 'remount,favordynmods', cg.target]);
  logStep(r.ok ? `cgroup2 ${cg.target}: favordynmods on, as berthd sets it` : `cgroup2 ${cg.target}: favordynmods not set (${r.err})`);
}

/** The host's (first) cgroup2 mount from mountinfo: its path and per-mount and super block options. */
export function cgroup2Mount(): { target: string; mountOptions: string[]; superOptions: string[] } | undefined {
  return findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/**
 * Run a benchmark's main with the cleanups registered by onCleanup guaranteed: after success or an
 * error (exit code 1), on an uncaught exception, and on SIGINT/SIGTERM/SIGHUP (exit code 130).
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  favorDynmodsLikeBerthd();
  let exiting = false;
  const bail = (why: string, code: number): void => {
    if (exiting) return;
    exiting = true;
    logStep(`${why}: cleaning up`);
    void runCleanups().finally(() => process.exit(code));
  };
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: uncaught: ${err.stack ?? String(err)}\n`);
    bail('uncaught exception', 1);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => bail(sig, 130));
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
}
