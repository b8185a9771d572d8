// berth container inspect [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { inspectObjects } from '../system/inspect-objects.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .option('-s, --size', 'Display total file sizes')
      .argument('<container...>')
      .action(async (names: string[], flags: { format?: string; size?: boolean }) => {
        await inspectObjects(ctx, { names, types: ['container'], format: flags.format, size: flags.size });
      });
  },
};
