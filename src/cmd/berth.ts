// berth: the CLI entry point. Kept tiny: compile cache first, then only the invoked command loads.
import module from 'node:module';

// Node ≥22.1 caches compiled code (V8 code cache) on disk; it roughly halves start-up on later
// runs. Not in Node's default os.tmpdir()/node-compile-cache: a world-writable /tmp would let any
// user plant code cache that root's berth then runs. root: /var/cache/berth; other users: their
// XDG cache dir; NODE_COMPILE_CACHE (Node's own switch, already applied) wins. Filled by the first
// run of each command; see docs/DESIGN-NOTES.md "Start-up and memory".
function compileCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  if (process.getuid?.() === 0) return '/var/cache/berth/node-compile-cache';
  const base = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME}/.cache` : undefined);
  return base ? `${base}/berth/node-compile-cache` : undefined;
}
const cacheDir = compileCacheDir(process.env);
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
