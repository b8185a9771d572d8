// berth export [OPTIONS] CONTAINER
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
      .argument('<container>')
      .action(async (container: string, flags: { output?: string }) => {
        if (!flags.output && ctx.io.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        const tar = await ctx.client().containerFiles.export(container);
        await pipeline(tar, flags.output ? createWriteStream(flags.output) : ctx.io.stdout);
      });
  },
};
