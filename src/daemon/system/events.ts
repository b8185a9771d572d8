import type { EventBus } from '../../lib/events.ts';
import { Filters } from '../../lib/filters.ts';
import { InvalidParameter } from '../../lib/errors.ts';
import type { EventMessage } from '../../types/docker.ts';

const EVENT_FILTERS = ['type', 'event', 'container', 'image', 'label', 'network', 'volume', 'daemon', 'scope', 'plugin'] as const;

/** Parse docker's event time: "1795362184.000000000", "1795362184", or an RFC 3339 date → unix ns. */
export function parseEventTime(s: string | null): bigint | undefined {
  if (!s) return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(s);
  if (m) return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '0').padEnd(9, '0'));
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new InvalidParameter(`invalid time value: ${s}`);
  return BigInt(t) * 1_000_000n;
}

export function eventMatches(ev: EventMessage, f: Filters): boolean {
  const attrs = ev.Actor.Attributes;
  if (!f.matchAny('type', (t) => t === ev.Type)) return false;
  if (!f.matchAny('event', (a) => a === ev.Action || ev.Action.startsWith(a + ':'))) return false;
  if (f.has('container') && !(ev.Type === 'container' && f.matchAny('container', (c) => ev.Actor.ID.startsWith(c) || attrs.name === c))) return false;
  if (f.has('image') && !f.matchAny('image', (i) => attrs.image === i || ev.Actor.ID === i || (ev.Type === 'image' && attrs.name === i))) return false;
  if (!f.matchLabels('label', attrs)) return false;
  if (f.has('network') && !(ev.Type === 'network' && f.matchAny('network', (n) => ev.Actor.ID.startsWith(n) || attrs.name === n))) return false;
  if (f.has('volume') && !(ev.Type === 'volume' && f.matchAny('volume', (v) => ev.Actor.ID === v))) return false;
  return true;
}

export interface EventQuery {
  since?: string | null;
  until?: string | null;
  filters?: string | null;
}

export type EventStreamRunner = (write: (ev: EventMessage) => void, signal: AbortSignal) => Promise<void>;

/**
 * Validate an events query (throws InvalidParameter before anything is sent), and return a
 * runner that replays recorded events since `since`, then follows live ones until `until`
 * (or until the signal aborts).
 */
export function openEventStream(bus: EventBus, query: EventQuery): EventStreamRunner {
  const filters = Filters.parse(query.filters, EVENT_FILTERS);
  const since = parseEventTime(query.since ?? null);
  const until = parseEventTime(query.until ?? null);
  return (write, signal) => runEventStream(bus, { filters, since, until }, write, signal);
}

async function runEventStream(
  bus: EventBus,
  q: { filters: Filters; since?: bigint; until?: bigint },
  write: (ev: EventMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const { filters, since, until } = q;
  const opts = { write, signal };
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const inWindow = (ev: EventMessage): boolean => {
    const t = BigInt(ev.timeNano);
    return (since === undefined || t >= since) && (until === undefined || t <= until);
  };
  if (since !== undefined) {
    for (const ev of bus.recent()) if (inWindow(ev) && eventMatches(ev, filters)) opts.write(ev);
  }
  if (until !== undefined && until <= nowNs) return;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', stop);
      resolve();
    };
    const unsubscribe = bus.subscribe((ev) => {
      if (until !== undefined && BigInt(ev.timeNano) > until) return stop();
      if (eventMatches(ev, filters)) opts.write(ev);
    });
    if (until !== undefined) timer = setTimeout(stop, Number((until - nowNs) / 1_000_000n));
    if (opts.signal.aborted) stop();
    else opts.signal.addEventListener('abort', stop);
  });
}
