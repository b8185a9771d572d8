// berth network inspect [OPTIONS] NETWORK [NETWORK...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { describeError, type CliContext } from '../../context.ts';
import { printInspected } from '../system/inspect-objects.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .option('-v, --verbose', 'Verbose output for diagnostics')
      .argument('<network...>')
      .action(async (refs: string[], flags: { format?: string }) => {
        const found: unknown[] = [];
        const errors: string[] = [];
        for (const ref of refs) {
          try {
            found.push(await ctx.client().networks.inspect(ref));
          } catch (err) {
            errors.push(await describeError(err));
          }
        }
        printInspected(ctx, found, errors, flags.format);
      });
  },
};
