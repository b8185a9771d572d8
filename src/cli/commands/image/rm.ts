// berth rmi / berth image rm [OPTIONS] IMAGE [IMAGE...]
import type { Command } from 'commander';
import { isKind } from '../../../lib/errors.ts';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --force', 'Force removal of the image')
      .option('--no-prune', 'Do not delete untagged parents')
      .argument('<image...>')
      .action(async (names: string[], flags: { force?: boolean; prune?: boolean }) => {
        let failed = false;
        for (const name of names) {
          try {
            const items = await ctx.client().images.remove(name, { force: flags.force, noPrune: flags.prune === false });
            for (const item of items) {
              if (item.Untagged) ctx.out(`Untagged: ${item.Untagged}\n`);
              if (item.Deleted) ctx.out(`Deleted: ${item.Deleted}\n`);
            }
          } catch (err) {
            // docker: -f makes a missing image silent
            if (flags.force && isKind(err, 'NotFound')) continue;
            failed = true;
            ctx.err(`${await describeError(err)}\n`);
          }
        }
        if (failed) throw new ExitStatus(1);
      });
  },
};
