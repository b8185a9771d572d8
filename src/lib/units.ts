import { InvalidParameter } from './errors.ts';

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parse a size like docker's RAMInBytes: "64m", "1g", "512k", "1024". */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new InvalidParameter(`invalid size: '${s}'`);
  const unit = (m[2] || 'b').toLowerCase();
  return Math.floor(parseFloat(m[1]) * UNITS[unit]);
}

/** Human size as the docker CLI shows it (decimal units, 3 significant digits). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** "About a minute", "2 hours", as Go's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const min = Math.round(s / 60);
  if (min === 1) return 'About a minute';
  if (min < 60) return `${min} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

/** Parse a Go-style duration ("10s", "1m30s", "500ms") or plain seconds into milliseconds. */
export function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return parseFloat(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const factor: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += parseFloat(m[1]) * factor[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== s.length || consumed === 0) throw new InvalidParameter(`invalid duration: ${s}`);
  return total;
}

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** go-units' FromHumanSize: decimal units ("10k" = 10000, "1.5MB"), as json-file's max-size. */
export function fromHumanSize(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(s);
  if (!m) throw new InvalidParameter(`invalid size: '${s}'`);
  return Math.floor(parseFloat(m[1]) * DECIMAL[(m[2] ?? '').toLowerCase()]);
}
