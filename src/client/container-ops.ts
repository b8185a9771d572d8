// Operations on running containers: top, stats, pause/unpause, update.
import type { ContainerUpdateRequest } from '../types/docker.ts';
import type { Transport } from './transport.ts';
import { jsonLines } from './transport.ts';

export interface TopResponse {
  Titles: string[];
  Processes: string[][];
}

/** The fields of Docker's stats JSON that the CLI reads (the daemon sends moby's full shape). */
export interface ContainerStatsJson {
  read: string;
  preread: string;
  id: string;
  name: string;
  pids_stats: { current?: number; limit?: number };
  cpu_stats: CpuStatsJson;
  precpu_stats: CpuStatsJson;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats: { io_service_bytes_recursive?: Array<{ major: number; minor: number; op: string; value: number }> | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface CpuStatsJson {
  cpu_usage: { total_usage: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export type UpdateBody = ContainerUpdateRequest;

export class ContainerOpsApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  top(id: string, psArgs?: string): Promise<TopResponse> {
    return this.transport.json<TopResponse>({ path: `/containers/${enc(id)}/top`, query: { ps_args: psArgs || undefined } });
  }

  /** One stats object (stream=0). */
  stats(id: string, options: { oneShot?: boolean } = {}): Promise<ContainerStatsJson> {
    return this.transport.json<ContainerStatsJson>({ path: `/containers/${enc(id)}/stats`, query: { stream: false, 'one-shot': options.oneShot || undefined } });
  }

  /** A stats object a second until the container stops or `signal` fires. */
  async *statsStream(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<ContainerStatsJson> {
    const res = await this.transport.request({ path: `/containers/${enc(id)}/stats`, query: { stream: true }, signal: options.signal });
    try {
      yield* jsonLines<ContainerStatsJson>(res);
    } catch (err) {
      if (!options.signal?.aborted) throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/pause` });
  }

  async unpause(id: string): Promise<void> {
    await this.transport.send({ method: 'POST', path: `/containers/${enc(id)}/unpause` });
  }

  update(id: string, body: UpdateBody): Promise<{ Warnings: string[] | null }> {
    return this.transport.json<{ Warnings: string[] | null }>({ method: 'POST', path: `/containers/${enc(id)}/update`, json: body });
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
