// berth: the CLI entry point as an ES module (`node dist/cmd/berth.js`). bin/berth runs the same
// code bundled into CommonJS (cmd/berth-bundle.ts, dist/berth.cjs): ~10 ms less start-up.
// Kept tiny: compile cache first, then only the invoked command loads.
import module from 'node:module';

import { compileCacheDir } from './compile-cache.ts';

// Node ≥22.1 caches compiled code on disk; it roughly halves start-up on later runs (where the
// cache lives and why: compile-cache.ts)
const cacheDir = compileCacheDir(process.env, process.getuid?.());
if (cacheDir) module.enableCompileCache?.(cacheDir);

const { berthMain, exitWhenFlushed, watchStdout } = await import('./berth-main.ts');
watchStdout();
exitWhenFlushed(await berthMain(process.argv.slice(2)));
