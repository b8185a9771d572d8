// berth inspect [OPTIONS] NAME|ID [NAME|ID...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { inspectObjects, type ObjectType } from './inspect-objects.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .option('-s, --size', 'Display total file sizes if the type is container')
      .option('--type <string>', 'Only inspect objects of the given type')
      .argument('<name...>')
      .action(async (names: string[], flags: { format?: string; size?: boolean; type?: string }) => {
        let types: ObjectType[] = ['container', 'image', 'volume'];
        if (flags.type !== undefined) {
          if (flags.type !== 'container' && flags.type !== 'image' && flags.type !== 'volume') {
            throw new CliError(`"${flags.type}" is not a valid value for --type`);
          }
          types = [flags.type];
        }
        await inspectObjects(ctx, { names, types, format: flags.format, size: flags.size });
      });
  },
};
