// berth top CONTAINER [ps OPTIONS]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { alignColumns } from '../../format/table.ts';

export const command: CommandModule = {
  usage: 'CONTAINER [ps OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .argument('<container>')
      .argument('[psOptions...]')
      .allowUnknownOption()
      .helpOption('--help', 'Print usage')
      .action(async (container: string, psOptions: string[]) => {
        const top = await ctx.client().containerOps.top(container, psOptions.join(' '));
        const lines = [top.Titles.join('\t'), ...top.Processes.map((p) => p.join('\t'))];
        ctx.out(alignColumns(lines.join('\n')) + '\n');
      });
  },
};
