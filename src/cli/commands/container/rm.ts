// berth rm [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import { isKind } from '../../../lib/errors.ts';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
      .option('-l, --link', 'Remove the specified link')
      .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
      .argument('<container...>')
      .action(async (names: string[], flags: { force?: boolean; link?: boolean; volumes?: boolean }) => {
        await forEachContainer(
          ctx,
          names,
          async (name) => {
            await ctx.client().containers.remove(name, { force: flags.force, volumes: flags.volumes, link: flags.link });
          },
          // docker: with -f a missing container is reported but not a failure
          { tolerate: (err) => Boolean(flags.force) && isKind(err, 'NotFound') },
        );
      });
  },
};
