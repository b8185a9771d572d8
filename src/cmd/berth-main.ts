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

let stdoutBuilt = false;

/**
 * Note when process.stdout gets built. Node builds it on first use (2–4 ms) and the CLI only
 * touches it to write, so at exit a stdout that was never built has nothing to flush. Wraps
 * Node's lazy getter; call once, before any command code runs.
 */
export function watchStdout(): void {
  const desc = Object.getOwnPropertyDescriptor(process, 'stdout');
  const get = desc?.get;
  if (!desc?.configurable || !get) {
    stdoutBuilt = true; // not Node's lazy getter: assume built
    return;
  }
  Object.defineProperty(process, 'stdout', {
    ...desc,
    get(): NodeJS.WriteStream {
      stdoutBuilt = true;
      return get.call(process) as NodeJS.WriteStream;
    },
  });
}

/** Exit with `code` once stdout has drained (stdin listeners or a pooled socket must not keep us alive). */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  // a pipe's writes may still be queued (asynchronous on POSIX); an unbuilt stdout holds nothing
  if (stdoutBuilt) process.stdout.write('', () => process.exit(code));
  else process.exit(code);
}
