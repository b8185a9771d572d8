// berth pull [OPTIONS] NAME[:TAG|@DIGEST]
import type { Command } from 'commander';
import { encodeRegistryAuth } from '../../../client/auth.ts';
import type { CommandModule } from '../../command.ts';
import { credentialsFor, registryOfImage } from '../../config-file.ts';
import { CliError, type CliContext } from '../../context.ts';
import { renderProgress } from '../../progress.ts';
import { isValidReference, parseReference, qualifiedRepo } from '../../reference.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all-tags', 'Download all tagged images in the repository')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('-q, --quiet', 'Suppress verbose output')
      .argument('<name>')
      .action(async (name: string, flags: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
        if (!isValidReference(name)) throw new CliError(`invalid reference format`);
        const ref = parseReference(name);
        if (flags.allTags && (ref.tag || ref.digest)) throw new CliError('tag can\'t be used with --all-tags/-a');
        if (!ref.tag && !ref.digest && !flags.quiet && !flags.allTags) ctx.out('Using default tag: latest\n');
        const tag = flags.allTags ? undefined : (ref.digest ?? ref.tag ?? 'latest');
        const render = renderProgress(ctx.io.stdout);
        try {
          await ctx.client().images.pull(qualifiedRepo(ref.repo), {
            tag,
            platform: flags.platform,
            registryAuth: encodeRegistryAuth(credentialsFor(ctx.io.env, registryOfImage(name))),
            onProgress: flags.quiet ? undefined : render.write,
          });
        } finally {
          render.end();
        }
        ctx.out(`${qualifiedRepo(ref.repo)}${ref.digest ? '@' + ref.digest : tag ? ':' + tag : ''}\n`);
      });
  },
};
