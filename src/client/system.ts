// System area: ping, version, info, events.
import type { ContainerSummary, EventMessage, ImageSummary, VersionResponse } from '../types/docker.ts';
import { encodeFilters, type FilterMap } from './filters.ts';
import { jsonLines, type PingResult, type Transport } from './transport.ts';

export interface EventsOptions {
  /** Unix seconds, `sec.nanos`, as the daemon expects (the CLI converts durations/dates). */
  since?: string;
  until?: string;
  filters?: FilterMap;
  signal?: AbortSignal;
}

/** `GET /info` is large and grows with every release; callers read what they need. */
export type InfoResponse = Record<string, unknown>;

/** GET /system/df (volume and build-cache entries are kept as the daemon sends them). */
export interface SystemDfResponse {
  LayersSize?: number;
  Images?: ImageSummary[];
  Containers?: ContainerSummary[];
  Volumes?: unknown[];
  BuildCache?: unknown[] | null;
  BuilderSize?: number;
}

export class SystemApi {
  private readonly transport: Transport;
  constructor(transport: Transport) {
    this.transport = transport;
  }

  ping(): Promise<PingResult> {
    return this.transport.ping();
  }

  version(): Promise<VersionResponse> {
    return this.transport.json<VersionResponse>({ path: '/version' });
  }

  info(): Promise<InfoResponse> {
    return this.transport.json<InfoResponse>({ path: '/info' });
  }

  /** Events as they happen; ends when `until` is reached or the signal aborts. */
  async *events(options: EventsOptions = {}): AsyncGenerator<EventMessage> {
    const res = await this.transport.request({
      path: '/events',
      query: { filters: encodeFilters(options.filters), since: options.since, until: options.until },
      signal: options.signal,
    });
    try {
      yield* jsonLines<EventMessage>(res);
    } catch (err) {
      if (options.signal?.aborted) return;
      throw err;
    } finally {
      res.destroy();
    }
  }

  /** Disk usage of images, containers, volumes and the build cache (`types` narrows it). */
  df(types: Array<'container' | 'image' | 'volume' | 'build-cache'> = []): Promise<SystemDfResponse> {
    return this.transport.json<SystemDfResponse>({ path: '/system/df', query: { type: types.length > 0 ? types : undefined } });
  }
}
