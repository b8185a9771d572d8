// berth volume rm [OPTIONS] VOLUME [VOLUME...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --force', 'Force the removal of one or more volumes')
      .argument('<volume...>')
      .action(async (names: string[], flags: { force?: boolean }) => {
        let failed = false;
        for (const name of names) {
          try {
            await ctx.client().volumes.remove(name, { force: flags.force });
            ctx.out(`${name}\n`);
          } catch (err) {
            failed = true;
            ctx.err(`${await describeError(err)}\n`);
          }
        }
        if (failed) throw new ExitStatus(1);
      });
  },
};
