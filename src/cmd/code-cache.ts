// Loading the CLI bundle (dist/berth-cli.cjs) with a V8 code cache made when a command has run.
//
// Node's compile cache (module.enableCompileCache) is produced right after a file is compiled, so
// it holds only what V8 compiles eagerly, the bundle's top level: every function a command then
// calls was compiled again in every process, ~5–7 ms of `berth run` on the 2-core VM. V8 can
// serialize the functions compiled so far (vm.Script#createCachedData after running), so a cache
// written when a command exits holds that command's functions. One file per command and bundle
// (`run-<path hash>.v8`, …), written after the command's first run that exits 0 (not for --help)
// and kept while V8 accepts it, keyed by Node's version and the bundle's size, mtime, ctime and
// inode. V8 itself rejects a cache made by another V8 or with other flags; then it is written
// again. Files go in a private directory beside Node's compile cache (compile-cache.ts), used only
// while it is ours and not writable by others; never a shared /tmp.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join } from 'node:path';
import vm from 'node:vm';
import { commandWords } from '../cli/words.ts';

const MAGIC = 'berth-v8-cache 1\n';

/** The cache file's name for argv, or undefined when this invocation should not have one. */
export function codeCacheKey(args: readonly string[]): string | undefined {
  if (args.some((a) => a === '--help' || a === '-h')) return undefined;
  const words = commandWords(args);
  // `berth registry` runs a server from its own bundle, loaded with import(): through vm.Script
  // that import needs an experimental loader hook (and a warning); its start-up does not matter.
  if (words[0] === 'registry') return undefined;
  const key = words.join('-');
  // Only plain command words make a file name (a mistyped word fails, and failures write nothing).
  return /^[a-z][a-z0-9-]{0,40}$/.test(key) ? key : undefined;
}

/**
 * The cache file for a command of the bundle at `bundle`: named after the bundle's path too, so
 * that two checkouts (or a bench's second tree) used by one user do not keep replacing each
 * other's caches.
 */
export function codeCacheFile(dir: string, key: string, bundle: string): string {
  // FNV-1a: a short stable tag, without loading node:crypto into every start-up
  let h = 0x811c9dc5;
  for (let i = 0; i < bundle.length; i++) h = Math.imul(h ^ bundle.charCodeAt(i), 0x01000193);
  return join(dir, `${key}-${(h >>> 0).toString(16).padStart(8, '0')}.v8`);
}

/**
 * The bundle's source and what must match for a cache to be used: the Node build and this exact
 * file. Both from one open file, so a rebuild in between cannot pair one source with the other's
 * stamp (V8's own check compares only the source's length).
 */
function readBundle(file: string): { source: string; stamp: string } {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd, { bigint: true });
    return { source: readFileSync(fd, 'utf8'), stamp: `${process.version} ${process.arch} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.ino}\n` };
  } finally {
    closeSync(fd);
  }
}

/** Only a directory of our own that no one else can write may hold code we run. */
function trustedDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function readCache(path: string, stamp: string): Buffer | undefined {
  if (!trustedDir(dirname(path))) return undefined;
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch {
    return undefined;
  }
  const head = MAGIC + stamp;
  return raw.length > head.length && raw.subarray(0, head.length).toString('latin1') === head ? raw.subarray(head.length) : undefined;
}

/**
 * Files kept in the cache directory. Each checkout (bundle path) has its own files, and a removed
 * checkout's stay behind: past this many, the least recently written go when one is written.
 */
export const MAX_CACHE_FILES = 200;

function writeCache(path: string, stamp: string, data: Buffer): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!trustedDir(dirname(path))) return;
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC + stamp, 'latin1'), data]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
    pruneCache(dirname(path));
  } catch {
    // a cache that cannot be written is only a slower next start
  }
}

/** Keeps the newest MAX_CACHE_FILES cache files (by mtime); runs only when a file was written. */
function pruneCache(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith('.v8') && !n.startsWith('.'));
  if (names.length <= MAX_CACHE_FILES) return;
  const aged = names.map((n) => ({ n, t: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(MAX_CACHE_FILES)) rmSync(join(dir, n), { force: true });
}

/** How the bundle was compiled: without a cache file, from a usable cache, or without one (made at exit). */
export type CodeCacheUse = 'off' | 'accepted' | 'absent' | 'rejected';

/**
 * `require(file)` of a CommonJS bundle, compiled with the code cache in `cacheFile` when it fits,
 * and writing one when the process exits with status 0 if there was none (or V8 refused it).
 * Without `cacheFile`, a plain require (Node's compile cache applies).
 */
export function requireWithCodeCache(file: string, cacheFile: string | undefined): { exports: unknown; cache: CodeCacheUse } {
  const req = Module.createRequire(file);
  if (!cacheFile) return { exports: req(file), cache: 'off' };
  let bundle: { source: string; stamp: string };
  try {
    bundle = readBundle(file);
  } catch {
    return { exports: req(file), cache: 'off' };
  }
  const { source, stamp } = bundle;
  const cachedData = readCache(cacheFile, stamp);
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData,
    // A safety net: an import() in the bundle resolves as under require(). The only one, of the
    // registry bundle, never runs here (codeCacheKey), as this hook still warns as experimental.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache: CodeCacheUse = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  if (cache !== 'accepted') {
    process.once('exit', (code) => {
      if (code === 0) writeCache(cacheFile, stamp, script.createCachedData());
    });
  }
  const mod = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, req, mod, file, dirname(file));
  return { exports: mod.exports, cache };
}
