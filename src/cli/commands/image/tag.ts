// berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { isValidReference, parseReference, qualifiedRepo } from '../../reference.ts';

export const command: CommandModule = {
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .argument('<source>')
      .argument('<target>')
      .action(async (source: string, target: string) => {
        if (!isValidReference(target)) throw new CliError(`Error parsing reference: "${target}" is not a valid repository/tag: invalid reference format`);
        const parsed = parseReference(target);
        if (parsed.digest) throw new CliError('refusing to create a tag with a digest reference');
        // docker sends the fully qualified repository (docker.io/library/x), the source as typed
        await ctx.client().images.tag(source, { repo: qualifiedRepo(parsed.repo), tag: parsed.tag ?? 'latest' });
      });
  },
};
