// System area: ping, version, info, events.
import type { EventMessage, VersionResponse } from '../types/docker.ts';
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
}
