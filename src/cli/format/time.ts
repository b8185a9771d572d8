// Time texts as the docker CLI prints them, and --since/--until parsing.
import { humanDuration, parseDuration } from '../../lib/units.ts';

/** "2 minutes ago" for a unix-seconds or ISO timestamp. */
export function ago(created: number | string, now = Date.now()): string {
  const ms = typeof created === 'number' ? created * 1000 : Date.parse(created);
  return `${humanDuration(Math.max(0, now - ms))} ago`;
}

/** Go's time.Time.String() in UTC: "2026-11-22 16:28:47 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const iso = new Date(unixSeconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}

/** RFC3339Nano from unix nanoseconds, trailing zeros trimmed as Go does. */
export function rfc3339Nano(timeNano: number | bigint): string {
  const ns = BigInt(timeNano);
  const seconds = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${frac ? '.' + frac : ''}Z`;
}

/**
 * --since/--until value → the daemon's form: a duration ("10m") → integer unix seconds before now;
 * a date or RFC3339 time → "sec.nanosec"; a unix timestamp passes through.
 */
export function apiTimestamp(value: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  if (/^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)/.test(value)) {
    return String(Math.floor((now - parseDuration(value)) / 1000));
  }
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return `${seconds}.${String(nanos).padStart(9, '0')}`;
}
