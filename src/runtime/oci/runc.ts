// Adapter over an OCI runtime CLI (runc; crun has the same commands). Always `--root <runtimeRoot>`
// so several berthd instances (and tests) keep separate state.
import { run } from '../../os/exec.ts';
import { NotFound, SystemError } from '../../lib/errors.ts';
import type { RuntimeState } from '../types.ts';

export interface OciRuntimeOptions {
  /** Binary, e.g. /usr/bin/runc. */
  path: string;
  /** State directory passed as --root, e.g. <execRoot>/runc. */
  root: string;
  /** Per-command timeout; a wedged runtime must not hang the daemon. */
  timeoutMs?: number;
}

const NOT_EXIST = /does not exist|not found|no such file/i;

export class OciRuntimeCli {
  readonly path: string;
  readonly root: string;
  private readonly timeoutMs: number;

  constructor(opts: OciRuntimeOptions) {
    this.path = opts.path;
    this.root = opts.root;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Arguments that go before the subcommand (conmon passes them as --runtime-arg). */
  globalArgs(): string[] {
    return ['--root', this.root];
  }

  private async exec(args: string[], opts: { allowFailure?: boolean } = {}) {
    return run(this.path, [...this.globalArgs(), ...args], { timeoutMs: this.timeoutMs, allowFailure: opts.allowFailure });
  }

  private fail(what: string, id: string, stderr: string): never {
    const msg = runtimeMessage(stderr);
    if (NOT_EXIST.test(msg)) throw new NotFound(`container ${id}: ${msg}`);
    throw new SystemError(`${what} ${id}: ${msg}`);
  }

  async start(id: string): Promise<void> {
    const r = await this.exec(['start', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime start', id, r.stderr);
  }

  /** Signal names with or without SIG, or numbers. `all` signals every process in the container. */
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const args = ['kill'];
    if (all) args.push('--all');
    args.push(id, String(signal));
    const r = await this.exec(args, { allowFailure: true });
    if (r.code !== 0) this.fail('runtime kill', id, r.stderr);
  }

  /** Remove the runtime state; absent is fine. */
  async delete(id: string, force = false): Promise<void> {
    const args = ['delete'];
    if (force) args.push('--force');
    args.push(id);
    const r = await this.exec(args, { allowFailure: true });
    if (r.code !== 0 && !NOT_EXIST.test(r.stderr)) this.fail('runtime delete', id, r.stderr);
  }

  /** `runc state`, or undefined when the runtime does not know the container. */
  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await this.exec(['state', id], { allowFailure: true });
    if (r.code !== 0) {
      if (NOT_EXIST.test(r.stderr)) return undefined;
      this.fail('runtime state', id, r.stderr);
    }
    const s = JSON.parse(r.stdout) as { id: string; status: RuntimeState['status']; pid: number; bundle: string };
    return { id: s.id, status: s.status, pid: s.pid, bundle: s.bundle };
  }

  async pause(id: string): Promise<void> {
    const r = await this.exec(['pause', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime pause', id, r.stderr);
  }

  async resume(id: string): Promise<void> {
    const r = await this.exec(['resume', id], { allowFailure: true });
    if (r.code !== 0) this.fail('runtime resume', id, r.stderr);
  }
}

/**
 * The message of a runtime failure: runc logs JSON lines ({"level":"error","msg":...}) when asked
 * to (--log-format=json), plain text otherwise. Returns the last error message found.
 */
export function runtimeMessage(text: string): string {
  let last = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('{')) {
      try {
        const j = JSON.parse(t) as { level?: string; msg?: string };
        if (j.msg && (j.level === 'error' || j.level === 'fatal' || !last)) last = j.msg;
        continue;
      } catch {
        // not JSON after all
      }
    }
    last = t.replace(/^time="[^"]*" level=\w+ msg="(.*)"$/, '$1');
  }
  return last || text.trim();
}
