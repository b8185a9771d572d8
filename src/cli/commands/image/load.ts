// berth load [OPTIONS]
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { renderProgress } from '../../progress.ts';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .action(async (flags: { input?: string; quiet?: boolean }) => {
        let tar: Readable;
        if (flags.input) {
          const file = createReadStream(flags.input);
          await new Promise<void>((resolve, reject) => {
            file.once('open', () => resolve());
            file.once('error', reject);
          }).catch((err: NodeJS.ErrnoException) => {
            throw new CliError(`open ${flags.input}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
          });
          tar = file;
        } else {
          if (ctx.io.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
          tar = ctx.io.stdin;
        }
        const render = renderProgress(ctx.io.stdout);
        try {
          await ctx.client().images.load(tar, { quiet: flags.quiet || !ctx.io.stdout.isTTY, onProgress: render.write });
        } finally {
          render.end();
        }
      });
  },
};
