// berth run [OPTIONS] IMAGE [COMMAND] [ARG...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, type CliContext } from '../../context.ts';
import { addCreateFlags, buildCreateRequest, type CreateFlags } from './create-flags.ts';
import { createWithPull, runFailure, runForeground } from './session.ts';

interface RunFlags extends CreateFlags {
  detach?: boolean;
  detachKeys?: string;
}

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  define(cmd: Command, ctx: CliContext): void {
    addCreateFlags(cmd)
      .option('-d, --detach', 'Run container in background and print container ID')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .argument('<image>')
      .argument('[command...]')
      .action(async (image: string, args: string[], flags: RunFlags) => {
        const detach = Boolean(flags.detach);
        const plan = buildCreateRequest({ flags, image, command: args, detach, io: ctx.io });
        let id: string;
        try {
          const created = await createWithPull(ctx, plan);
          id = created.Id;
          for (const warning of created.Warnings ?? []) ctx.err(`WARNING: ${warning}\n`);
        } catch (err) {
          throw await runFailure(err);
        }
        if (detach) {
          try {
            await ctx.client().containers.start(id);
          } catch (err) {
            throw await runFailure(err);
          }
          ctx.out(`${id}\n`);
          return;
        }
        let status: number | 'detached';
        try {
          status = await runForeground(ctx, {
            id,
            tty: Boolean(flags.tty),
            stdin: Boolean(flags.interactive),
            condition: flags.rm ? 'removed' : 'next-exit',
            start: true,
            detachKeys: flags.detachKeys,
          });
        } catch (err) {
          throw await runFailure(err);
        }
        if (status !== 0 && status !== 'detached') throw new ExitStatus(status);
      });
  },
};
