// Entry of dist/berth.cjs, the berth CLI as bin/berth runs it. scripts/bundle-cli.mjs bundles
// this file and, separately, cmd/berth-main.ts with everything it imports (dist/berth-cli.cjs)
// into CommonJS: Node's ES module loader (resolution, package.json lookups, linking of ~40
// modules) cost ~10–13 ms of every `berth` command's start-up on the 2-core VM, the same code as
// one CommonJS file does not. Two files, because the compile cache applies only to what is
// compiled after it is turned on.
import module from 'node:module';
import { compileCacheDir } from './compile-cache.ts';
import type * as BerthMain from './berth-main.ts';

const cacheDir = compileCacheDir(process.env, process.getuid?.());
if (cacheDir) module.enableCompileCache?.(cacheDir);

// Run only as the CommonJS bundle, where __filename is this file (also when reached through a
// symlink, unlike process.argv[1]); the bundle of the rest sits next to it.
declare const __filename: string | undefined;
const self = typeof __filename === 'string' ? __filename : process.argv[1];
const { berthMain, exitWhenFlushed } = module.createRequire(self)('./berth-cli.cjs') as typeof BerthMain;
void berthMain(process.argv.slice(2)).then(exitWhenFlushed);
