// berth unpause CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';

export const command: CommandModule = {
  usage: 'CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd.argument('<container...>').action(async (names: string[]) => {
      await forEachContainer(ctx, names, (name) => ctx.client().containerOps.unpause(name));
    });
  },
};
