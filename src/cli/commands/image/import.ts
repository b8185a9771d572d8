// berth import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { renderProgress } from '../../progress.ts';
import { isValidReference, parseReference } from '../../reference.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
      .option('-m, --message <string>', 'Set commit message for imported image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .argument('<source>')
      .argument('[reference]')
      .action(async (source: string, reference: string | undefined, flags: { change?: string[]; message?: string; platform?: string }) => {
        let repo: string | undefined;
        let tag: string | undefined;
        if (reference) {
          if (!isValidReference(reference)) throw new CliError(`invalid reference format: repository name (${reference}) must be lowercase`);
          const parsed = parseReference(reference);
          repo = parsed.repo;
          tag = parsed.tag;
        }
        if (/^https?:\/\//.test(source)) throw new CliError('berth: importing from a URL is not supported yet');
        let tar: Readable;
        if (source === '-') tar = ctx.io.stdin;
        else {
          const file = createReadStream(source);
          // surface "no such file" before sending anything
          await new Promise<void>((resolve, reject) => {
            file.once('open', () => resolve());
            file.once('error', reject);
          }).catch((err: NodeJS.ErrnoException) => {
            throw new CliError(`open ${source}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
          });
          tar = file;
        }
        const render = renderProgress(ctx.io.stdout);
        try {
          await ctx.client().images.import(tar, {
            repo,
            tag,
            message: flags.message,
            changes: flags.change,
            platform: flags.platform,
            onProgress: render.write,
          });
        } finally {
          render.end();
        }
      });
  },
};
