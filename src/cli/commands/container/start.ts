// berth start [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, ExitStatus, type CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';
import { runForeground } from './session.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
      .option('-i, --interactive', "Attach container's STDIN")
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .argument('<container...>')
      .action(async (names: string[], flags: { attach?: boolean; interactive?: boolean; detachKeys?: string }) => {
        const client = ctx.client();
        if (flags.attach || flags.interactive) {
          if (names.length > 1) throw new CliError('berth: you cannot start and attach multiple containers at once', { exitCode: 1 });
          const info = await client.containers.inspect(names[0]);
          const status = await runForeground(ctx, {
            id: info.Id,
            tty: info.Config.Tty,
            stdin: Boolean(flags.interactive) && info.Config.OpenStdin,
            condition: 'next-exit',
            start: true,
            detachKeys: flags.detachKeys,
          });
          if (status === 'detached') throw new CliError('read escape sequence');
          if (status !== 0) throw new ExitStatus(status);
          return;
        }
        await forEachContainer(ctx, names, async (name) => {
          await client.containers.start(name);
        });
      });
  },
};
