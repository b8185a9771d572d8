// berth: the CLI entry point. Kept tiny: compile cache first, then only the invoked command loads.
import module from 'node:module';

import { compileCacheDir } from './compile-cache.ts';

// Node ≥22.1 caches compiled code on disk; it roughly halves start-up on later runs (where the
// cache lives and why: compile-cache.ts)
const cacheDir = compileCacheDir(process.env, process.getuid?.());
if (cacheDir) module.enableCompileCache?.(cacheDir);

const args = process.argv.slice(2);
let code: number;
if (args[0] === 'registry') {
  // the registry server runs in-process; it is not an Engine API client (cmd/registry.ts)
  const { registryMain } = await import('./registry.ts');
  code = await registryMain(args.slice(1));
} else {
  const { main } = await import('../cli/main.ts');
  code = await main(args);
}
// exit explicitly (stdin listeners or a pooled socket must not keep us alive), after stdout drains
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
