// `berth registry serve|gc` runs in-process from cmd/registry.ts (cmd/berth.ts dispatches it when
// `registry` is the first word). This entry only lists it in `berth --help` and explains misuse.
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: 'COMMAND',
  define(cmd: Command, _ctx: CliContext): void {
    cmd.allowUnknownOption(true).allowExcessArguments(true).action(() => {
      throw new CliError("berth registry takes no global options: run 'berth registry serve|gc [OPTIONS]'");
    });
  },
};
