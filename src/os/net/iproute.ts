// The data plane's contact with the kernel: iproute2 batches and nftables for the host, rtnetlink
// from berthd for the inside of a container's netns (netns-config.ts), and sysctls.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { run, runLight } from '../exec.ts';
import { SystemError } from '../../lib/errors.ts';
import { configureNetnsViaNetlink, ipLines, type NetnsOp } from './netns-config.ts';

export type { NetnsOp } from './netns-config.ts';

export interface LinkInfo {
  ifname: string;
  kind: string;
  master?: string;
}

/** Host operations of the data plane: iproute2 and nftables, plus sysctls. */
export interface NetHost {
  /**
   * Run iproute2 commands in one `ip -batch` (in the netns of `netnsPid` if given). `after`: the
   * process starts at once but gets its commands only once `after` resolves (if it rejects, the
   * batch runs nothing and this rejects with its error) — so a netns batch's process start
   * overlaps the host batch it depends on.
   */
  ipBatch(lines: readonly string[], opts?: { netnsPid?: number; force?: boolean; after?: Promise<void> }): Promise<void>;
  /**
   * Apply `ops` (addresses, link up, routes) in the netns of process `pid`, once `after` (the host
   * batch that made the links) has resolved: over rtnetlink from the daemon, or as an iproute2
   * batch there when koffi is unavailable.
   */
  configureNetns(pid: number, ops: readonly NetnsOp[], opts?: { after?: Promise<void> }): Promise<void>;
  links(): Promise<LinkInfo[]>;
  linkExists(name: string): boolean;
  /** The prefixes the host routes (to avoid when picking a subnet). */
  routes(): Promise<string[]>;
  setSysctl(key: string, value: string): Promise<void>;
  /** Apply an nft script in one transaction. */
  nft(script: string): Promise<void>;
  nftTables(): Promise<Array<{ family: string; name: string }>>;
}

const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';
const NSENTER = '/usr/bin/nsenter';

/**
 * A long-lived `ip -force -batch -` in the host's netns for the hot path (a container's links):
 * no process start per container. Each job is followed by `link show dev <unique absent name>`,
 * whose "Command failed -:N" on stderr marks the job done; the failures before it are the job's.
 * Anything odd (exit, timeout) rejects, and the caller falls back to a one-shot `ip`.
 */
class IpCoprocess {
  private child: ChildProcessWithoutNullStreams | undefined;
  private lines = 0;
  private stderr = '';
  private pending: { marker: number; resolve: (errors: string[]) => void; reject: (err: Error) => void } | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  run(lines: readonly string[]): Promise<string[]> {
    const job = this.tail.then(() => this.exec(lines));
    this.tail = job.catch(() => undefined);
    return job;
  }

  /** Drop the process (its link-name cache may be stale after bridges come and go). */
  reset(): void {
    const c = this.child;
    this.child = undefined;
    c?.kill('SIGKILL');
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(IP, ['-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = 0;
    this.stderr = '';
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (this.child !== child) return;
      this.stderr += d;
      this.check();
    });
    const gone = (): void => {
      if (this.child === child) this.child = undefined;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new SystemError('ip batch process exited'));
    };
    child.on('exit', gone);
    child.on('error', gone);
    child.stdin.on('error', () => undefined);
    return child;
  }

  private exec(lines: readonly string[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const child = (this.child ??= this.start());
      const marker = this.lines + lines.length + 1;
      this.lines = marker;
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.reset();
        reject(new SystemError('ip batch timed out'));
      }, 20_000);
      this.pending = {
        marker,
        resolve: (errors) => {
          clearTimeout(timer);
          resolve(errors);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      child.stdin.write(`${lines.join('\n')}\nlink show dev bmk${process.pid.toString(36)}x${marker.toString(36)}\n`);
    });
  }

  private check(): void {
    const p = this.pending;
    if (!p) return;
    const tag = `Command failed -:${p.marker}\n`;
    const at = this.stderr.indexOf(tag);
    if (at < 0) return;
    const text = this.stderr.slice(0, at + tag.length);
    this.stderr = this.stderr.slice(at + tag.length);
    this.pending = undefined;
    const errors: string[] = [];
    let acc: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^Command failed -:(\d+)$/.exec(line);
      if (!m) {
        if (line) acc.push(line);
        continue;
      }
      if (Number(m[1]) !== p.marker) errors.push(acc.join('; ') || `line ${m[1]} failed`);
      acc = [];
    }
    p.resolve(errors);
  }
}

const coprocess = new IpCoprocess();

async function ipOneShot(lines: readonly string[], opts: { netnsPid?: number; force?: boolean; after?: Promise<void> }): Promise<void> {
  const args = ['-batch', '-'];
  if (opts.force) args.unshift('-force');
  const text = lines.join('\n') + '\n';
  const input = opts.after ? opts.after.then(() => text) : text;
  // A container's netns is reached through its process (the netns lives and dies with it).
  // The netns batch is on every container start: spawned without forking the daemon.
  const res = opts.netnsPid
    ? await runLight(NSENTER, [`--net=/proc/${opts.netnsPid}/ns/net`, IP, ...args], { input, allowFailure: true, timeoutMs: 20_000 })
    : await run(IP, args, { input, allowFailure: true, timeoutMs: 20_000 });
  if (opts.after) await opts.after;
  if (res.code !== 0 && !opts.force) {
    const msg = res.stderr.trim().split('\n').filter((l) => !/^Command failed/.test(l)).join('; ') || `exit status ${res.code}`;
    throw new SystemError(`ip: ${msg}`);
  }
}

async function ipBatch(lines: readonly string[], opts: { netnsPid?: number; force?: boolean; after?: Promise<void> } = {}): Promise<void> {
  if (lines.length === 0) return opts.after;
  if (opts.after && !opts.netnsPid) {
    await opts.after;
    opts = { ...opts, after: undefined };
  }
  // Making or deleting links by name goes through a fresh process, and the coprocess is dropped
  // after it: its cache must not map a reused name to a gone interface.
  const structural = lines.some((l) => /^link del |type bridge/.test(l));
  if (opts.netnsPid || structural) {
    try {
      await ipOneShot(lines, opts);
    } finally {
      if (structural) coprocess.reset();
    }
    return;
  }
  let errors: string[];
  try {
    errors = await coprocess.run(lines);
  } catch {
    return ipOneShot(lines, opts);
  }
  if (errors.length && !opts.force) {
    coprocess.reset();
    throw new SystemError(`ip: ${errors.join('; ')}`);
  }
}

async function configureNetns(pid: number, ops: readonly NetnsOp[], opts: { after?: Promise<void> } = {}): Promise<void> {
  if (ops.length === 0) return opts.after;
  await opts.after;
  if (!(await configureNetnsViaNetlink(pid, ops))) await ipOneShot(ipLines(ops), { netnsPid: pid });
}

async function ipJson<T>(args: string[]): Promise<T> {
  const res = await run(IP, ['-j', ...args], { timeoutMs: 20_000 });
  return JSON.parse(res.stdout || '[]') as T;
}

async function links(): Promise<LinkInfo[]> {
  const raw = await ipJson<Array<{ ifname: string; master?: string; linkinfo?: { info_kind?: string } }>>(['-d', 'link', 'show']);
  return raw.map((l) => ({ ifname: l.ifname, kind: l.linkinfo?.info_kind ?? '', master: l.master }));
}

async function routes(): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    const raw = await ipJson<Array<{ dst: string }>>([fam, 'route', 'show', 'table', 'all']);
    for (const r of raw) if (r.dst && r.dst !== 'default' && !r.dst.startsWith('fe80') && !r.dst.startsWith('ff00')) out.push(r.dst.includes('/') ? r.dst : r.dst + (r.dst.includes(':') ? '/128' : '/32'));
  }
  return out;
}

async function setSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value);
}

async function nft(script: string): Promise<void> {
  const res = await run(NFT, ['-f', '-'], { input: script, allowFailure: true, timeoutMs: 20_000 });
  if (res.code !== 0) throw new SystemError(`nft: ${res.stderr.trim() || `exit status ${res.code}`}`);
}

async function nftTables(): Promise<Array<{ family: string; name: string }>> {
  const res = await run(NFT, ['-j', 'list', 'tables'], { timeoutMs: 20_000 });
  const parsed = JSON.parse(res.stdout || '{}') as { nftables?: Array<{ table?: { family: string; name: string } }> };
  return (parsed.nftables ?? []).flatMap((e) => (e.table ? [{ family: e.table.family, name: e.table.name }] : []));
}

export const realNetHost: NetHost = {
  ipBatch,
  configureNetns,
  links,
  linkExists: (name) => existsSync(`/sys/class/net/${name}`),
  routes,
  setSysctl,
  nft,
  nftTables,
};
