// Where berth and berthd keep Node's compile cache (V8 code cache of their modules, Node ≥22.1).
// Not Node's default os.tmpdir()/node-compile-cache: in a world-writable /tmp any user could plant
// code cache that root's berth or berthd then runs. root: /var/cache/berth; other users: their XDG
// cache dir. NODE_COMPILE_CACHE (Node's own switch, applied before any of our code) wins, and
// NODE_DISABLE_COMPILE_CACHE turns it off. Entries are written by the first run that loads a module.

/** berth's private cache directory: /var/cache/berth for root, the XDG cache dir for others. */
function berthCacheDir(env: NodeJS.ProcessEnv, uid: number | undefined): string | undefined {
  if (uid === 0) return '/var/cache/berth';
  const base = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME}/.cache` : undefined);
  return base ? `${base}/berth` : undefined;
}

export function compileCacheDir(env: NodeJS.ProcessEnv, uid: number | undefined): string | undefined {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = berthCacheDir(env, uid);
  return dir && `${dir}/node-compile-cache`;
}

/** The CLI bundle's per-command V8 code caches (code-cache.ts): beside Node's, same rules. */
export function cliCodeCacheDir(env: NodeJS.ProcessEnv, uid: number | undefined): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = berthCacheDir(env, uid);
  return dir && `${dir}/cli-code-cache`;
}
