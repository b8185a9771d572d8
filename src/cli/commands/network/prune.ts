// berth network prune [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { collect, type CommandModule } from '../../command.ts';
import { confirm } from '../../confirm.ts';
import { CliError, type CliContext } from '../../context.ts';

const WARNING = 'WARNING! This will remove all custom networks not used by at least one container.';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect)
      .option('-f, --force', 'Do not prompt for confirmation')
      .action(async (flags: { filter?: string[]; force?: boolean }) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "--filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        if (!flags.force && !(await confirm(ctx, WARNING))) return;
        const res = await ctx.client().networks.prune({ filters });
        if (res.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${res.NetworksDeleted.join('\n')}\n`);
      });
  },
};
