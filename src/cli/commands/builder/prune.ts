// berth builder prune [OPTIONS]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { confirm } from '../../confirm.ts';
import type { CliContext } from '../../context.ts';
import { humanSize } from '../../../lib/units.ts';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
      .option('-f, --force', 'Do not prompt for confirmation')
      .action(async (flags: { all?: boolean; force?: boolean }) => {
        const warning = flags.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
        if (!flags.force && !(await confirm(ctx, warning))) return;
        const r = await ctx.client().build.prune({ all: flags.all });
        if (r.CachesDeleted?.length) {
          ctx.out('Deleted build cache objects:\n');
          for (const id of r.CachesDeleted) ctx.out(`${id}\n`);
          ctx.out('\n');
        }
        ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
      });
  },
};
