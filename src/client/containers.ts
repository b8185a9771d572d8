// Containers area of the Engine API.
import type { HttpResponse } from './http1.ts';
import type { Readable } from 'node:stream';
import type {
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspect,
  ContainerSummary,
  WaitResponse,
} from '../types/docker.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import { readText, type HijackedStream, type Transport } from './transport.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface CreateOptions {
  name?: string;
  platform?: string;
}

export interface ListOptions {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: FilterMap;
}

export interface AttachOptions {
  stdin?: Readable;
  stdout?: boolean;
  stderr?: boolean;
  stream?: boolean;
  logs?: boolean;
  detachKeys?: string;
}

export interface LogsOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Unix seconds (or `sec.nanos`), as the daemon expects. */
  since?: string;
  until?: string;
  timestamps?: boolean;
  tail?: string;
  details?: boolean;
  signal?: AbortSignal;
}

export interface StopOptions {
  /** Seconds to wait before killing. */
  timeout?: number;
  signal?: string;
}

export interface RemoveOptions {
  force?: boolean;
  volumes?: boolean;
  link?: boolean;
}

/** A wait registered with the daemon: `result` settles when the condition is met. */
export interface PendingWait {
  result: Promise<WaitResponse>;
  /** Abandon the wait (e.g. `run -d`). */
  cancel(): void;
}

export class ContainersApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  create(body: ContainerCreateRequest, options: CreateOptions = {}): Promise<ContainerCreateResponse> {
    return this.transport.json<ContainerCreateResponse>({
      method: 'POST',
      path: '/containers/create',
      query: { name: options.name, platform: options.platform },
      json: body,
    });
  }

  /** Start; `notModified` is true when it was already running (304, a success). */
  start(id: string, options: { detachKeys?: string } = {}): Promise<{ notModified: boolean }> {
    return this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/start`, query: { detachKeys: options.detachKeys } });
  }

  /**
   * Register a wait and resolve once the daemon has flushed its headers, i.e. the waiter exists.
   * Call this BEFORE start so `next-exit` catches the first run; `result` settles at the exit.
   */
  async beginWait(id: string, options: { condition?: WaitCondition } = {}): Promise<PendingWait> {
    const res = await this.transport.request({ method: 'POST', path: `/containers/${enc(id)}/wait`, query: { condition: options.condition } });
    const result = readText(res).then((text) => {
      const parsed = JSON.parse(text) as WaitResponse;
      if (parsed.Error?.Message) throw new Error(parsed.Error.Message);
      return parsed;
    });
    // a cancelled wait rejects; nobody awaits it then
    result.catch(() => undefined);
    // Destroying the response (and its connection) cancels: no AbortSignal on the request, whose
    // first use costs ~1 ms of `berth run`'s start-up.
    return { result, cancel: () => void res.destroy(new Error('wait cancelled')) };
  }

  /** Block until the condition; resolves with the exit status. */
  async wait(id: string, options: { condition?: WaitCondition } = {}): Promise<WaitResponse> {
    return (await this.beginWait(id, options)).result;
  }

  /** Hijack the container's stdio. Output is multiplexed unless the container has a TTY. */
  attach(id: string, options: AttachOptions = {}): Promise<HijackedStream> {
    return this.transport.hijack(`/containers/${enc(id)}/attach`, {
      query: {
        detachKeys: options.detachKeys,
        logs: options.logs || undefined,
        stderr: options.stderr ?? true,
        stdin: options.stdin ? true : undefined,
        stdout: options.stdout ?? true,
        stream: options.stream ?? true,
      },
      stdin: options.stdin,
    });
  }

  /** The logs as a byte stream (multiplexed unless TTY). */
  logs(id: string, options: LogsOptions = {}): Promise<HttpResponse> {
    return this.transport.request({
      path: `/containers/${enc(id)}/logs`,
      query: {
        details: options.details || undefined,
        follow: options.follow || undefined,
        since: options.since,
        stderr: options.stderr ?? true,
        stdout: options.stdout ?? true,
        tail: options.tail ?? 'all',
        timestamps: options.timestamps || undefined,
        until: options.until,
      },
      signal: options.signal,
    });
  }

  stop(id: string, options: StopOptions = {}): Promise<{ notModified: boolean }> {
    return this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/stop`, query: { signal: options.signal, t: options.timeout } });
  }

  restart(id: string, options: StopOptions = {}): Promise<{ notModified: boolean }> {
    return this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/restart`, query: { signal: options.signal, t: options.timeout } });
  }

  async kill(id: string, options: { signal?: string } = {}): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/kill`, query: { signal: options.signal } });
  }

  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    await this.transport.send({
      method: 'DELETE',
      path: `/containers/${enc(id)}`,
      query: { force: options.force || undefined, link: options.link || undefined, v: options.volumes || undefined },
    });
  }

  async rename(id: string, newName: string): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/rename`, query: { name: newName } });
  }

  async resize(id: string, size: { height: number; width: number }): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/resize`, query: { h: size.height, w: size.width } });
  }

  list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    return this.transport.json<ContainerSummary[]>({
      path: '/containers/json',
      query: {
        all: options.all || undefined,
        filters: encodeFilters(options.filters),
        limit: options.limit && options.limit > 0 ? options.limit : undefined,
        size: options.size || undefined,
      },
    });
  }

  inspect(id: string, options: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.transport.json<ContainerInspect>({ path: `/containers/${enc(id)}/json`, query: { size: options.size || undefined } });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
