// Exec area of the Engine API: create, start (hijacked or detached), inspect, resize.
import type { Readable } from 'node:stream';
import type { ExecCreateRequest, ExecInspect } from '../types/docker.ts';
import type { HijackedStream, Transport } from './transport.ts';

export interface ExecStartOptions {
  tty?: boolean;
  /** [height, width] of the terminal (API ≥ 1.42). */
  consoleSize?: [number, number];
  /** Copied to the process's stdin; without it our write side is closed at once. */
  stdin?: Readable;
}

export class ExecApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** POST /containers/{id}/exec → the exec instance's ID. */
  create(container: string, body: ExecCreateRequest): Promise<{ Id: string }> {
    return this.transport.json<{ Id: string }>({ method: 'POST', path: `/containers/${enc(container)}/exec`, json: body });
  }

  /** Start attached: the hijacked stream (multiplexed unless the exec has a TTY). */
  start(id: string, options: ExecStartOptions = {}): Promise<HijackedStream> {
    return this.transport.hijack(`/exec/${enc(id)}/start`, {
      json: { Detach: false, Tty: !!options.tty, ...(options.consoleSize ? { ConsoleSize: options.consoleSize } : {}) },
      stdin: options.stdin,
    });
  }

  /** Start detached (exec -d): returns once the process runs. */
  async startDetached(id: string, options: { tty?: boolean } = {}): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/exec/${enc(id)}/start`, json: { Detach: true, Tty: !!options.tty } });
  }

  inspect(id: string): Promise<ExecInspect> {
    return this.transport.json<ExecInspect>({ path: `/exec/${enc(id)}/json` });
  }

  async resize(id: string, size: { height: number; width: number }): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/exec/${enc(id)}/resize`, query: { h: size.height, w: size.width } });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
