// berth restart [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';
import { parseTimeout } from './stop.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-s, --signal <string>', 'Signal to send to the container')
      .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
      .argument('<container...>')
      .action(async (names: string[], flags: { signal?: string; timeout?: string }) => {
        const timeout = parseTimeout(flags.timeout);
        await forEachContainer(ctx, names, async (name) => {
          await ctx.client().containers.restart(name, { signal: flags.signal, timeout });
        });
      });
  },
};
