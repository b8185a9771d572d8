// `berth registry serve` as a child process on loopback, for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, NODE } from './daemon.ts';

export class TestRegistry {
  readonly dir: string;
  readonly storage: string;
  proc?: ChildProcess;
  url = '';
  host = '';
  port = 0;
  logs = '';
  private readonly ownsDir: boolean;

  constructor(storage?: string) {
    this.ownsDir = storage === undefined;
    this.dir = storage ?? mkdtempSync(join(tmpdir(), 'berth-registry-'));
    this.storage = storage ?? join(this.dir, 'storage');
  }

  /** Start on 127.0.0.1 (`port` 0 = any free one) with extra flags (`--htpasswd`, …). */
  async start(args: string[] = [], port = 0): Promise<void> {
    this.logs = '';
    const proc = spawn(NODE, [BERTH, 'registry', 'serve', '--addr', `127.0.0.1:${port}`, '--storage', this.storage, '--log-level', 'debug', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => (this.logs += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`registry did not start:\n${this.logs}`)), 15_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        this.logs += d.toString();
        const m = /listening on (https?):\/\/([0-9.]+):(\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          this.url = `${m[1]}://${m[2]}:${m[3]}`;
          this.host = `${m[2]}:${m[3]}`;
          this.port = Number(m[3]);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`registry exited (${code}):\n${this.logs}`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  async cleanup(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP proxy on a fixed loopback port in front of a registry whose port may change (it is
 * restarted). `throttle` slows the registry→client direction to ~`bytesPerTick` per 20 ms.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  upstreamPort = 0;
  bytesPerTick = 0;
  port = 0;

  async start(upstreamPort: number): Promise<void> {
    this.upstreamPort = upstreamPort;
    this.server = createServer((client) => {
      const up = connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(up);
      const drop = (): void => {
        client.destroy();
        up.destroy();
        this.sockets.delete(client);
        this.sockets.delete(up);
      };
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      client.pipe(up);
      up.on('data', (chunk: Buffer) => {
        if (this.bytesPerTick <= 0) {
          if (!client.write(chunk)) {
            up.pause();
            client.once('drain', () => up.resume());
          }
          return;
        }
        up.pause();
        let off = 0;
        const tick = (): void => {
          if (client.destroyed) return;
          // throttling may be switched off mid-chunk: then send the rest at once
          const step = this.bytesPerTick > 0 ? this.bytesPerTick : chunk.length;
          const part = chunk.subarray(off, off + step);
          off += part.length;
          client.write(part);
          if (off < chunk.length) setTimeout(tick, 20);
          else up.resume();
        };
        tick();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Cut every open connection (as a dying registry would). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
