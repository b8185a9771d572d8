// berth network disconnect [OPTIONS] NETWORK CONTAINER
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --force', 'Force the container to disconnect from a network')
      .argument('<network>')
      .argument('<container>')
      .action(async (network: string, container: string, flags: { force?: boolean }) => {
        await ctx.client().networks.disconnect(network, container, { force: flags.force });
      });
  },
};
