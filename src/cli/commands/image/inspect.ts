// berth image inspect [OPTIONS] IMAGE [IMAGE...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { inspectObjects } from '../system/inspect-objects.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .argument('<image...>')
      .action(async (names: string[], flags: { format?: string }) => {
        await inspectObjects(ctx, { names, types: ['image'], format: flags.format });
      });
  },
};
