// IP address management: subnets for networks (from the default address pools when none is given)
// and addresses for endpoints. Drivers never allocate; the controller asks here. Nothing is
// persisted by this class: the controller rebuilds it from the network and endpoint records.
import { Conflict, Forbidden, InvalidParameter, Unavailable } from '../../lib/errors.ts';
import { contains, formatIp, formatPrefix, last, overlaps, size, type Family, type Prefix } from './cidr.ts';

export interface AddressPool {
  base: Prefix;
  /** Prefix length of each subnet carved from `base`. */
  size: number;
}

/** One subnet of a network: addresses come from `range` (the subnet itself unless --ip-range). */
export interface SubnetSpec {
  subnet: Prefix;
  range: Prefix;
  gateway?: bigint;
}

interface Space {
  spec: SubnetSpec;
  used: Set<bigint>;
  /** Where the next search starts, so a released address is not handed out again at once. */
  cursor: bigint;
}

export class Ipam {
  private readonly pools: readonly AddressPool[];
  private readonly spaces = new Map<string, Space[]>();

  constructor(pools: readonly AddressPool[]) {
    this.pools = pools;
  }

  /** Reserve a network's subnets (and gateways). Fails if a subnet overlaps another network's. */
  addNetwork(netId: string, specs: readonly SubnetSpec[]): void {
    for (const spec of specs) {
      for (const [other, spaces] of this.spaces) {
        if (other === netId) continue;
        for (const s of spaces) {
          if (overlaps(s.spec.subnet, spec.subnet)) throw new Forbidden(`Pool overlaps with other one on this address space`);
        }
      }
    }
    const spaces = specs.map((spec) => {
      const used = new Set<bigint>();
      if (spec.gateway !== undefined) used.add(spec.gateway);
      return { spec, used, cursor: spec.range.base };
    });
    this.spaces.set(netId, spaces);
  }

  removeNetwork(netId: string): void {
    this.spaces.delete(netId);
  }

  subnets(): Prefix[] {
    return [...this.spaces.values()].flatMap((s) => s.map((x) => x.spec.subnet));
  }

  /** A free subnet from the default pools, avoiding networks and the host's own routes. */
  allocateSubnet(family: Family, avoid: readonly Prefix[]): Prefix {
    const taken = [...this.subnets(), ...avoid];
    for (const pool of this.pools) {
      if (pool.base.family !== family) continue;
      const step = size({ family, base: 0n, bits: pool.size });
      for (let base = pool.base.base; base + step - 1n <= last(pool.base); base += step) {
        const cand: Prefix = { family, base, bits: pool.size };
        if (!taken.some((t) => overlaps(t, cand))) return cand;
      }
    }
    throw new Unavailable('could not find an available, non-overlapping IPv' + family + ' address pool among the defaults to assign to the network');
  }

  /**
   * An address for an endpoint: `preferred` if given (must be free and in the subnet), else the
   * next free one after the last handed out. Network, broadcast and gateway are never given.
   */
  allocate(netId: string, family: Family, preferred?: bigint): bigint | undefined {
    const spaces = (this.spaces.get(netId) ?? []).filter((s) => s.spec.subnet.family === family);
    if (spaces.length === 0) {
      if (preferred !== undefined) throw new InvalidParameter(`no configured subnet contains IP address ${formatIp(family, preferred)}`);
      return undefined;
    }
    if (preferred !== undefined) {
      const s = spaces.find((x) => contains(x.spec.subnet, family, preferred));
      if (!s) throw new InvalidParameter(`no configured subnet or ip-range contain the IP address ${formatIp(family, preferred)}`);
      if (s.used.has(preferred)) throw new Conflict(`Address already in use: ${formatIp(family, preferred)}`);
      s.used.add(preferred);
      return preferred;
    }
    for (const s of spaces) {
      const lo = s.spec.range.base;
      const hi = last(s.spec.range);
      const total = hi - lo + 1n;
      for (let i = 0n; i < total; i++) {
        let cand = s.cursor + i;
        if (cand > hi) cand = lo + (cand - hi - 1n);
        if (this.reserved(s.spec, family, cand) || s.used.has(cand)) continue;
        s.used.add(cand);
        s.cursor = cand + 1n > hi ? lo : cand + 1n;
        return cand;
      }
    }
    throw new Unavailable(`no available IPv${family} addresses on this network's address pools: ${spaces.map((s) => formatPrefix(s.spec.subnet)).join(', ')}`);
  }

  /** Mark an address used (rebuilding from records at start). */
  claim(netId: string, family: Family, value: bigint): void {
    const s = (this.spaces.get(netId) ?? []).find((x) => contains(x.spec.subnet, family, value));
    if (!s) return;
    s.used.add(value);
    if (value >= s.cursor && contains(s.spec.range, family, value)) s.cursor = value + 1n > last(s.spec.range) ? s.spec.range.base : value + 1n;
  }

  release(netId: string, family: Family, value: bigint): void {
    const s = (this.spaces.get(netId) ?? []).find((x) => contains(x.spec.subnet, family, value));
    if (s && value !== s.spec.gateway) s.used.delete(value);
  }

  inUse(netId: string, family: Family, value: bigint): boolean {
    return (this.spaces.get(netId) ?? []).some((x) => contains(x.spec.subnet, family, value) && x.used.has(value));
  }

  private reserved(spec: SubnetSpec, family: Family, v: bigint): boolean {
    if (v === spec.gateway) return true;
    if (family === 4 && spec.subnet.bits < 31) return v === spec.subnet.base || v === last(spec.subnet);
    return family === 6 && v === spec.subnet.base;
  }
}

