// API versions: the highest version berthd speaks and the lowest it accepts.
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const ENGINE_VERSION = '0.1.0';

/** Compare "1.41" style versions numerically. */
export function compareApiVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** Extract the version prefix of a request path: "/v1.41/containers/json" → ["1.41", "/containers/json"]. */
export function splitVersionedPath(path: string): [string | undefined, string] {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  return m ? [m[1], m[2]] : [undefined, path];
}
