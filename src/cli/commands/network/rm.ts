// berth network rm NETWORK [NETWORK...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --force', 'Do not error if the network does not exist')
      .argument('<network...>')
      .action(async (refs: string[], flags: { force?: boolean }) => {
        let failed = false;
        for (const ref of refs) {
          try {
            await ctx.client().networks.remove(ref);
            ctx.out(`${ref}\n`);
          } catch (err) {
            if (flags.force && (err as { kind?: string }).kind === 'NotFound') continue;
            failed = true;
            ctx.err(`${await describeError(err)}\n`);
          }
        }
        if (failed) throw new ExitStatus(1);
      });
  },
};
