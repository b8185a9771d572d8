// berth attach [OPTIONS] CONTAINER
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, ExitStatus, type CliContext } from '../../context.ts';
import { runForeground } from './session.ts';

interface AttachFlags {
  detachKeys?: string;
  stdin?: boolean; // --no-stdin sets false
  sigProxy?: boolean;
}

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('--no-stdin', 'Do not attach STDIN')
      .option('--sig-proxy', 'Proxy all received signals to the process', true)
      .argument('<container>')
      .action(async (name: string, flags: AttachFlags) => {
        const client = ctx.client();
        const info = await client.containers.inspect(name);
        if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
        if (!info.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
        const status = await runForeground(ctx, {
          id: info.Id,
          tty: info.Config.Tty,
          stdin: flags.stdin !== false && info.Config.OpenStdin,
          condition: 'next-exit',
          start: false,
          detachKeys: flags.detachKeys,
        });
        if (status === 'detached') throw new CliError('read escape sequence');
        if (status !== 0) throw new ExitStatus(status);
      });
  },
};
