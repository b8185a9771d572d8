// What the berth CLI does once Node's compile cache is on: `berth registry …` runs the registry
// server in-process, everything else is an Engine API client command. Shared by the ESM entry
// (cmd/berth.ts) and the bundled one bin/berth runs (cmd/berth-bundle.ts).

/** Run the CLI with argv (without node and script); resolves with the exit code. */
export async function berthMain(args: string[]): Promise<number> {
  if (args[0] === 'registry') {
    // the registry server runs in-process; it is not an Engine API client (cmd/registry.ts)
    const { registryMain } = await import('./registry.ts');
    return registryMain(args.slice(1));
  }
  const { main } = await import('../cli/main.ts');
  return main(args);
}

/** Exit with `code` once stdout has drained (stdin listeners or a pooled socket must not keep us alive). */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}
