// A real berthd on a temporary data root, exec root and socket, for integration tests.
import { before, after } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync, createReadStream } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeBusyboxRootfsTar } from './busybox.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = process.execPath;
export const BERTHD = join(ROOT, 'dist/cmd/berthd.js');
/** The CLI as bin/berth runs it: the CommonJS bundle (scripts/bundle-cli.mjs). */
export const BERTH = join(ROOT, 'dist/berth.cjs');

let busyboxTar: string | undefined;
async function busyboxFixture(): Promise<string> {
  if (!busyboxTar) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-fixture-'));
    busyboxTar = await makeBusyboxRootfsTar(join(dir, 'busybox.tar'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return busyboxTar;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: <T = unknown>() => T;
}

export class TestDaemon {
  readonly dir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly cgroupParent: string;
  readonly dockerConfig: string;
  /** Network names unique to this daemon (issue 6): bridge, veths, nft table all start with it. */
  readonly netPrefix: string;
  /** 10.R.S.0/22: the default bridge is its first /26, user networks get the other /26s. */
  readonly netBase: string;
  proc?: ChildProcess;
  logs = '';
  /** A command that runs berthd (e.g. `unshare ... sh -c '...; exec "$@"' sh`); empty: node directly. */
  launcher: string[] = [];

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-it-'));
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'run');
    this.socket = join(this.execRoot, 'berth.sock');
    this.cgroupParent = `berth-test-${randomBytes(4).toString('hex')}`;
    this.dockerConfig = join(this.dir, 'docker-config');
    this.netPrefix = `${TEST_NET_PREFIX}${randomBytes(2).toString('hex')}`;
    this.netBase = freeTestBase();
  }

  /** berthd's network flags: kernel object names and subnets no other test daemon uses. */
  get netArgs(): string[] {
    const [a, b, c] = this.netBase.split('.');
    return ['-b', `${this.netPrefix}0`, '--bip', `${a}.${b}.${c}.1/26`, '--default-address-pool', `base=${this.netBase}/22,size=26`, '--nft-table', this.netPrefix, '--iface-prefix', this.netPrefix, '--no-egress'];
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  /** Environment for the docker CLI and berth: talk to this daemon only. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.host, BERTH_HOST: this.host, DOCKER_CONFIG: this.dockerConfig, DOCKER_CLI_HINTS: 'false', ...extra };
  }

  async start(extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<void> {
    // BERTH_TEST_STORAGE_DRIVER=vfs runs the whole integration suite on the vfs snapshotter.
    const driver = process.env.BERTH_TEST_STORAGE_DRIVER;
    const driverArgs = driver && !extraArgs.includes('--storage-driver') ? ['--storage-driver', driver] : [];
    const [cmd, ...pre] = [...this.launcher, NODE];
    this.proc = spawn(cmd, [...pre, BERTHD, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', this.host, '--cgroup-parent', this.cgroupParent, '--log-level', 'debug', ...driverArgs, ...this.netArgs, ...extraArgs], {
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own directory as cwd: what berthd or its monitors leave in their cwd shows up there.
      cwd: this.dir,
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.logs += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.logs += d.toString()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`berthd exited early:\n${this.logs}`);
      try {
        const r = await this.api('GET', '/_ping');
        if (r.status === 200) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not start:\n${this.logs}`);
  }

  /** Wait for berthd to exit (e.g. after a failpoint SIGKILL). */
  async exited(timeoutMs = 15_000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('berthd did not exit')), timeoutMs);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async kill9(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.exited();
  }

  async stop(): Promise<void> {
    this.proc?.kill('SIGTERM');
    await this.exited();
  }

  api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return new Promise((resolvePromise, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const req = request({ socketPath: this.socket, method, path, headers: { ...(data !== undefined && !headers['Content-Type'] ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Import the busybox fixture as busybox:latest. */
  async importBusybox(ref = 'busybox:latest'): Promise<string> {
    const tar = await busyboxFixture();
    const [repo, tag] = ref.split(':');
    const r = await new Promise<ApiResponse>((resolvePromise, reject) => {
      const req = request({ socketPath: this.socket, method: 'POST', path: `/images/create?fromSrc=-&repo=${encodeURIComponent(repo)}&tag=${tag ?? 'latest'}&changes=${encodeURIComponent('CMD ["sh"]')}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: <T>() => JSON.parse(text) as T }));
      });
      req.on('error', reject);
      createReadStream(tar).pipe(req);
    });
    if (r.status !== 200 || r.body.includes('errorDetail')) throw new Error(`import failed: ${r.status} ${r.body}`);
    const m = /sha256:[a-f0-9]{64}/.exec(r.body);
    return m ? m[0] : '';
  }

  /** Remove every container (force) and stop the daemon, then check nothing is left. */
  async cleanup(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        const r = await this.api('GET', '/containers/json?all=1');
        for (const c of r.json<Array<{ Id: string }>>()) await this.api('DELETE', `/containers/${c.Id}?force=1`);
      } catch {
        /* daemon gone */
      }
      await this.stop();
    }
    // berthd --cleanup (uninstall) removes the bridges, veths and nftables table it made.
    const clean = spawnSync(NODE, [BERTHD, '--cleanup', '--data-root', this.dataRoot, '--exec-root', this.execRoot, ...this.netArgs], { encoding: 'utf8', timeout: 30_000 });
    if (clean.status !== 0) process.stderr.write(`berthd --cleanup failed: ${clean.stderr}\n`);
    removeTestNetObjects(this.netPrefix);
    const leftovers = leakedMounts(this.dir);
    for (const m of leftovers) spawnSync('umount', ['-l', m]);
    killConmons(this.execRoot);
    removeCgroups(this.cgroupParent);
    rmSync(this.dir, { recursive: true, force: true });
    if (leftovers.length) throw new Error(`leaked mounts: ${leftovers.join(', ')}`);
  }
}

/** Names of every network object a test daemon makes start with this (bt + 4 hex digits). */
export const TEST_NET_PREFIX = 'bt';
export const TEST_NET_RE = /^bt[0-9a-f]{4}/;

/** A 10.R.S.0/22 that no host route touches (and unlikely any other test daemon picks). */
function freeTestBase(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  for (;;) {
    const r = 64 + Math.floor(Math.random() * 190);
    const s = 4 * Math.floor(Math.random() * 64);
    if (!routes.includes(`10.${r}.`)) return `10.${r}.${s}.0`;
  }
}

/** Test daemons' links (bridges, veths) and nftables tables with this prefix (a safety net after --cleanup). */
export function testNetObjects(prefix: RegExp = TEST_NET_RE): { links: string[]; tables: string[] } {
  const links = (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => prefix.test(n));
  const tables = ((JSON.parse(spawnSync('nft', ['-j', 'list', 'tables'], { encoding: 'utf8' }).stdout || '{}') as { nftables?: Array<{ table?: { name: string; family: string } }> }).nftables ?? [])
    .flatMap((e) => (e.table && prefix.test(e.table.name) ? [`${e.table.family} ${e.table.name}`] : []));
  return { links, tables };
}

function removeTestNetObjects(prefix: string): void {
  const re = new RegExp(`^${prefix}`);
  const { links, tables } = testNetObjects(re);
  for (const l of links) spawnSync('ip', ['link', 'del', l]);
  for (const t of tables) spawnSync('nft', ['delete', 'table', ...t.split(' ')]);
  if (links.length || tables.length) process.stderr.write(`berthd --cleanup left ${[...links, ...tables].join(', ')}\n`);
}

/** Mount points under a directory, from /proc/self/mountinfo. */
export function leakedMounts(under: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return lines.map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(under + '/'));
}

/** conmon processes whose command line mentions a path (the test's exec root). */
export function conmonsUnder(path: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/conmon') || cmd.startsWith('conmon')) {
        if (cmd.includes(path)) pids.push(Number(p));
      }
    } catch {
      /* gone */
    }
  }
  return pids;
}

function killConmons(path: string): void {
  for (const pid of conmonsUnder(path)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export function cgroupDirs(parent: string): string[] {
  const out: string[] = [];
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', ctrl, parent);
    if (existsSync(d)) {
      out.push(d);
      for (const child of readdirSync(d, { withFileTypes: true })) if (child.isDirectory()) out.push(join(d, child.name));
    }
  }
  return out;
}

export function removeCgroups(parent: string): void {
  for (const d of cgroupDirs(parent).reverse()) {
    try {
      rmSync(d, { recursive: false, force: true });
    } catch {
      spawnSync('rmdir', [d]);
    }
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a CLI (docker or berth) to completion with a timeout. */
export function runCli(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export function docker(d: TestDaemon, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCli('docker', args, { env: d.env(), ...opts });
}

export function berth(d: TestDaemon, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCli(NODE, [BERTH, ...args], { env: d.env(), ...opts });
}

/**
 * One berthd with busybox imported for the whole test file: registers before/after hooks and
 * returns an accessor (the daemon exists only once `before` has run).
 */
export function useDaemon(opts: { args?: string[] } = {}): () => TestDaemon {
  let d: TestDaemon | undefined;
  before(async () => {
    d = new TestDaemon();
    await d.start({}, opts.args ?? []);
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });
  return () => {
    if (!d) throw new Error('the test daemon is not started yet');
    return d;
  };
}

/** Entries of a directory, or none if it does not exist. */
export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
