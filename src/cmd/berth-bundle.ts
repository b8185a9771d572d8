// Entry of dist/berth.cjs, the berth CLI as bin/berth runs it. scripts/bundle-cli.mjs bundles
// this file and, separately, cmd/berth-main.ts with everything it imports (dist/berth-cli.cjs)
// into CommonJS: Node's ES module loader (resolution, package.json lookups, linking of ~40
// modules) cost ~10–13 ms of every `berth` command's start-up on the 2-core VM, the same code as
// one CommonJS file does not. Two files, because caches apply only to what is compiled after they
// are set up: the rest is loaded with a per-command V8 code cache (code-cache.ts), and Node's
// compile cache serves what loads later (the registry bundle, native addons' JS).
import module from 'node:module';
import { dirname, join } from 'node:path';
import { cliCodeCacheDir, compileCacheDir } from './compile-cache.ts';
import { codeCacheFile, codeCacheKey, requireWithCodeCache } from './code-cache.ts';
import type * as BerthMain from './berth-main.ts';

const uid = process.getuid?.();
const cacheDir = compileCacheDir(process.env, uid);
if (cacheDir) module.enableCompileCache?.(cacheDir);

// Run only as the CommonJS bundle, where __filename is this file (also when reached through a
// symlink, unlike process.argv[1]); the bundle of the rest sits next to it.
declare const __filename: string | undefined;
const self = typeof __filename === 'string' ? __filename : process.argv[1]!;
const args = process.argv.slice(2);
const codeCacheDir = cliCodeCacheDir(process.env, uid);
const key = codeCacheDir ? codeCacheKey(args) : undefined;
const cli = join(dirname(self), 'berth-cli.cjs');
const { berthMain, exitWhenFlushed, watchStdout } = requireWithCodeCache(cli, key && codeCacheDir ? codeCacheFile(codeCacheDir, key, cli) : undefined).exports as typeof BerthMain;
watchStdout();
void berthMain(args).then(exitWhenFlushed);
