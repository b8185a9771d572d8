import { InvalidParameter } from '../../lib/errors.ts';
import { parsePrefix } from './cidr.ts';
import type { AddressPool } from './ipam.ts';

/** dockerd's --default-address-pool values: "base=10.10.0.0/16,size=24". */
export function parsePools(values: readonly string[]): AddressPool[] {
  return values.map((v) => {
    const fields = Object.fromEntries(v.split(',').map((kv) => kv.split('=', 2).map((s) => s.trim())));
    if (!fields.base || !fields.size) throw new InvalidParameter(`invalid default address pool: ${v} (base=CIDR,size=N)`);
    const base = parsePrefix(fields.base, { strict: true });
    const size = Number(fields.size);
    if (!Number.isInteger(size) || size < base.bits || size > (base.family === 4 ? 32 : 128)) throw new InvalidParameter(`invalid default address pool size: ${v}`);
    return { base, size };
  });
}
