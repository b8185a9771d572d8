// berth save [OPTIONS] IMAGE [IMAGE...]
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
      .option('--platform <string>', 'Save only the given platform variant')
      .argument('<images...>')
      .action(async (images: string[], flags: { output?: string }) => {
        if (!flags.output && ctx.io.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        const tar = await ctx.client().images.save(images);
        if (!flags.output) {
          await pipeline(tar, ctx.io.stdout, { end: false });
          return;
        }
        // write next to the target and rename: a failed save leaves no half-written archive
        const tmp = `${flags.output}.tmp-${process.pid}`;
        try {
          await pipeline(tar, createWriteStream(tmp));
          renameSync(tmp, flags.output);
        } catch (err) {
          rmSync(tmp, { force: true });
          throw err;
        }
      });
  },
};
