import { InvalidParameter } from './errors.ts';

/**
 * Docker's `filters` query parameter: JSON `{"label":{"a=b":true}}`, or the legacy
 * `{"label":["a=b"]}`. Parsed into name → list of values.
 */
export class Filters {
  private readonly map: Map<string, string[]>;
  constructor(map: Map<string, string[]> = new Map()) {
    this.map = map;
  }

  static parse(raw: string | null | undefined, allowed?: readonly string[]): Filters {
    const map = new Map<string, string[]>();
    if (!raw) return new Filters(map);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidParameter(`invalid filter '${raw}'`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidParameter(`invalid filter '${raw}'`);
    }
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (allowed && !allowed.includes(name)) throw new InvalidParameter(`invalid filter '${name}'`);
      let values: string[];
      if (Array.isArray(value)) values = value.map(String);
      else if (value && typeof value === 'object') values = Object.entries(value).filter(([, on]) => on === true).map(([k]) => k);
      else throw new InvalidParameter(`invalid filter '${name}'`);
      map.set(name, values);
    }
    return new Filters(map);
  }

  has(name: string): boolean {
    return (this.map.get(name)?.length ?? 0) > 0;
  }
  get(name: string): string[] {
    return this.map.get(name) ?? [];
  }
  /** True if the filter is absent, or any of its values satisfies the predicate. */
  matchAny(name: string, pred: (value: string) => boolean): boolean {
    const values = this.map.get(name);
    if (!values || values.length === 0) return true;
    return values.some(pred);
  }
  /** Label filters (`key` or `key=value`): every one must match. */
  matchLabels(name: string, labels: Record<string, string> | null | undefined): boolean {
    const values = this.map.get(name);
    if (!values || values.length === 0) return true;
    const l = labels ?? {};
    return values.every((v) => {
      const i = v.indexOf('=');
      if (i < 0) return Object.hasOwn(l, v);
      return l[v.slice(0, i)] === v.slice(i + 1);
    });
  }
  /** Parse a boolean filter value ("true"/"1"/"false"/"0"). */
  bool(name: string): boolean | undefined {
    const v = this.map.get(name)?.[0];
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new InvalidParameter(`Invalid filter '${name}=${v}'`);
  }
}

/** Docker's glob-ish match for name and reference filters: only `*` is special. */
export function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(s);
}
