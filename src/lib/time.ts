// Time formats of the Docker API.

/** Go's zero time.Time, which Docker prints for "never" (FinishedAt, LastTagTime). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** ns since epoch → RFC3339 with 9 fraction digits in UTC, as `docker logs -t` prints. */
export function formatTimestamp(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-22T16:19:40.870Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

const parsed = new Map<string, number>();

/**
 * Date.parse of a stored RFC3339 time, memoised: container listings parse every container's
 * Created/StartedAt/FinishedAt on every request, and these strings change only on state changes.
 */
export function parseTime(rfc3339: string): number {
  let ms = parsed.get(rfc3339);
  if (ms === undefined) {
    // A bound on what stale times can hold; dropping everything is cheap (they are re-parsed).
    if (parsed.size >= 4096) parsed.clear();
    ms = Date.parse(rfc3339);
    parsed.set(rfc3339, ms);
  }
  return ms;
}
