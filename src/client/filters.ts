// Docker's `filters` query parameter: {"label":{"a=b":true},"status":{"running":true}}.
export type FilterMap = Record<string, string[]>;

export function encodeFilters(filters: FilterMap | undefined): string | undefined {
  if (!filters) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    out[key] = Object.fromEntries(values.map((v) => [v, true]));
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** Parse CLI `--filter key=value` arguments into a FilterMap (key without `=` is an error). */
export function parseFilterArgs(args: string[]): FilterMap {
  const map: FilterMap = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`bad format of filter (expected name=value)`);
    const key = arg.slice(0, eq).trim().toLowerCase();
    (map[key] ??= []).push(arg.slice(eq + 1).trim());
  }
  return map;
}
