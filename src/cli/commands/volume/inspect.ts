// berth volume inspect [OPTIONS] VOLUME [VOLUME...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { describeError, type CliContext } from '../../context.ts';
import { printInspected } from '../system/inspect-objects.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .argument('<volume...>')
      .action(async (names: string[], flags: { format?: string }) => {
        const found: unknown[] = [];
        const errors: string[] = [];
        for (const name of names) {
          try {
            found.push(await ctx.client().volumes.inspect(name));
          } catch (err) {
            errors.push(await describeError(err));
          }
        }
        printInspected(ctx, found, errors, flags.format);
      });
  },
};
