// berth container prune [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { humanSize } from '../../../lib/units.ts';
import { collect, type CommandModule } from '../../command.ts';
import { confirm } from '../../confirm.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--filter <filter>', `Provide filter values (e.g. "until=<timestamp>")`, collect)
      .option('-f, --force', 'Do not prompt for confirmation')
      .action(async (flags: { filter?: string[]; force?: boolean }) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "--filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        if (!flags.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return;
        const res = await ctx.client().containerFiles.prune(filters);
        if (res.ContainersDeleted?.length) ctx.out(`Deleted Containers:\n${res.ContainersDeleted.join('\n')}\n\n`);
        ctx.out(`Total reclaimed space: ${humanSize(res.SpaceReclaimed)}\n`);
      });
  },
};
