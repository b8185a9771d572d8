// berth: the CLI entry point. Kept tiny: compile cache first, then only the invoked command loads.
import module from 'node:module';

// Node ≥22.1 caches compiled code on disk; it roughly halves start-up on later runs
module.enableCompileCache?.();

const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
// exit explicitly (stdin listeners or a pooled socket must not keep us alive), after stdout drains
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
