// The contract between main.ts and a command module (one per file under commands/).
import type { Command } from 'commander';
import type { CliContext } from './context.ts';

export interface CommandModule {
  /** docker's usage tail: "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  usage: string;
  /** Add arguments, options and the action to the (already named) commander command. */
  define(cmd: Command, ctx: CliContext): void;
}

/** Repeatable option collector: `-e A -e B` → ["A", "B"]. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
