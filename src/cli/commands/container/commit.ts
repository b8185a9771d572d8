// berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]
import type { Command } from 'commander';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { isValidReference, parseReference, qualifiedRepo } from '../../reference.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
      .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
      .option('-m, --message <string>', 'Commit message')
      .option('-p, --pause', 'Pause container during commit (default true)')
      .option('--no-pause', 'Do not pause the container during commit')
      .argument('<container>')
      .argument('[reference]')
      .action(async (container: string, reference: string | undefined, flags: { author?: string; change?: string[]; message?: string; pause?: boolean }) => {
        let repo: string | undefined;
        let tag: string | undefined;
        if (reference) {
          if (!isValidReference(reference)) throw new CliError(`invalid reference format: repository name (${reference}) must be lowercase`);
          const parsed = parseReference(reference);
          if (parsed.digest) throw new CliError('refusing to create a tag with a digest reference');
          repo = qualifiedRepo(parsed.repo);
          tag = parsed.tag;
        }
        const id = await ctx.client().containerFiles.commit(container, {
          repo,
          tag,
          author: flags.author,
          comment: flags.message,
          changes: flags.change,
          pause: flags.pause !== false,
        });
        ctx.out(`${id}\n`);
      });
  },
};
