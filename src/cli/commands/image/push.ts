// berth push [OPTIONS] NAME[:TAG]
import type { Command } from 'commander';
import { encodeRegistryAuth } from '../../../client/auth.ts';
import type { CommandModule } from '../../command.ts';
import { credentialsFor, registryOfImage } from '../../config-file.ts';
import { CliError, type CliContext } from '../../context.ts';
import { renderProgress } from '../../progress.ts';
import { isValidReference, parseReference, qualifiedRepo } from '../../reference.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NAME[:TAG]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all-tags', 'Push all tags of an image to the repository')
      .option('-q, --quiet', 'Suppress verbose output')
      .argument('<name>')
      .action(async (name: string, flags: { allTags?: boolean; quiet?: boolean }) => {
        if (!isValidReference(name)) throw new CliError('invalid reference format');
        const ref = parseReference(name);
        if (ref.digest) throw new CliError('berth: cannot push a digest reference');
        if (flags.allTags && ref.tag) throw new CliError(`tag can't be used with --all-tags/-a`);
        const render = renderProgress(ctx.io.stdout);
        let result;
        try {
          result = await ctx.client().images.push(qualifiedRepo(ref.repo), {
            tag: flags.allTags ? undefined : (ref.tag ?? 'latest'),
            registryAuth: encodeRegistryAuth(credentialsFor(ctx.io.env, registryOfImage(name))),
            onProgress: flags.quiet ? undefined : render.write,
          });
        } finally {
          render.end();
        }
        if (flags.quiet && result) ctx.out(`${ref.repo}:${result.Tag}\n`);
      });
  },
};
