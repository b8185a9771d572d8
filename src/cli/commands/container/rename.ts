// berth rename CONTAINER NEW_NAME
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: 'CONTAINER NEW_NAME',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .argument('<container>')
      .argument('<new-name>')
      .action(async (container: string, newName: string) => {
        if (newName.trim() === '' || container.trim() === '') {
          throw new CliError('Error: neither old nor new names may be empty');
        }
        await ctx.client().containers.rename(container, newName);
      });
  },
};
