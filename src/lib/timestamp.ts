import { InvalidParameter } from './errors.ts';
import { parseDuration } from './units.ts';

/**
 * docker's GetTimestamp for `until`/`since` filters: a Go duration ("10m", "1h30m") counts back
 * from `now`; otherwise a Unix timestamp (`sec[.nanos]`) or an RFC 3339 date/time. Returns ms.
 */
export function parseFilterTimestamp(value: string, now = Date.now()): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return parseFloat(v) * 1000;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return now - parseDuration(v);
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t)) throw new InvalidParameter(`failed to parse value as time or duration: "${value}"`);
  return t;
}
