// IPv4/IPv6 addresses and prefixes as bigints: parsing, formatting, containment, overlap.
import { InvalidParameter } from '../../lib/errors.ts';
import { parseIp, type Family } from '../../lib/ip.ts';

export { parseIp, type Family };

export interface Prefix {
  family: Family;
  /** The network address (host bits cleared). */
  base: bigint;
  bits: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of zero groups (length ≥ 2) becomes '::' (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function mask(family: Family, bits: number): bigint {
  const w = WIDTH[family];
  return ((1n << BigInt(w)) - 1n) ^ ((1n << BigInt(w - bits)) - 1n);
}

/** "10.1.0.0/16" → Prefix. With `strict`, host bits must be zero (dockerd's rule for --subnet). */
export function parsePrefix(text: string, opts: { strict?: boolean } = {}): Prefix {
  const m = /^(.+)\/(\d{1,3})$/.exec(text.trim());
  const ip = m ? parseIp(m[1]) : undefined;
  if (!m || !ip) throw new InvalidParameter(`invalid CIDR address: ${text}`);
  const bits = Number(m[2]);
  if (bits > WIDTH[ip.family]) throw new InvalidParameter(`invalid CIDR address: ${text}`);
  const base = ip.value & mask(ip.family, bits);
  if (opts.strict && base !== ip.value) throw new InvalidParameter(`invalid subnet ${text}: it should be ${formatPrefix({ family: ip.family, base, bits })}`);
  return { family: ip.family, base, bits };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIp(p.family, p.base)}/${p.bits}`;
}

export function size(p: Prefix): bigint {
  return 1n << BigInt(WIDTH[p.family] - p.bits);
}

export function contains(p: Prefix, family: Family, value: bigint): boolean {
  return p.family === family && (value & mask(family, p.bits)) === p.base;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  const m = mask(a.family, bits);
  return (a.base & m) === (b.base & m);
}

/** The last address of the prefix (IPv4 broadcast). */
export function last(p: Prefix): bigint {
  return p.base + size(p) - 1n;
}
