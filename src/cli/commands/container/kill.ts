// berth kill [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-s, --signal <string>', 'Signal to send to the container')
      .argument('<container...>')
      .action(async (names: string[], flags: { signal?: string }) => {
        await forEachContainer(ctx, names, async (name) => {
          await ctx.client().containers.kill(name, { signal: flags.signal });
        });
      });
  },
};
