// berth diff CONTAINER
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';

const KIND = ['C', 'A', 'D'];

export const command: CommandModule = {
  usage: 'CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd.argument('<container>').action(async (container: string) => {
      for (const c of await ctx.client().containerFiles.changes(container)) ctx.out(`${KIND[c.Kind] ?? '?'} ${c.Path}\n`);
    });
  },
};
