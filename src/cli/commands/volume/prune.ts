// berth volume prune [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { humanSize } from '../../../lib/units.ts';
import { collect, type CommandModule } from '../../command.ts';
import { confirm } from '../../confirm.ts';
import { CliError, type CliContext } from '../../context.ts';

const WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.';
const WARNING_ALL = 'WARNING! This will remove all local volumes not used by at least one container.';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
      .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect)
      .option('-f, --force', 'Do not prompt for confirmation')
      .action(async (flags: { all?: boolean; filter?: string[]; force?: boolean }) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "--filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        if (flags.all) filters.all = ['true'];
        if (!flags.force && !(await confirm(ctx, flags.all ? WARNING_ALL : WARNING))) return;
        const res = await ctx.client().volumes.prune({ filters });
        if (res.VolumesDeleted?.length) ctx.out(`Deleted Volumes:\n${res.VolumesDeleted.join('\n')}\n\n`);
        ctx.out(`Total reclaimed space: ${humanSize(res.SpaceReclaimed)}\n`);
      });
  },
};
