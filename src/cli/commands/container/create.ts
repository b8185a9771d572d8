// berth create [OPTIONS] IMAGE [COMMAND] [ARG...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { addCreateFlags, buildCreateRequest, type CreateFlags } from './create-flags.ts';
import { createWithPull, runFailure } from './session.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  define(cmd: Command, ctx: CliContext): void {
    addCreateFlags(cmd)
      .argument('<image>')
      .argument('[command...]')
      .action(async (image: string, args: string[], flags: CreateFlags) => {
        // a created container is attached later (start -a), so stdio is marked as attached
        const plan = buildCreateRequest({ flags, image, command: args, detach: false, io: ctx.io });
        try {
          const created = await createWithPull(ctx, plan);
          for (const warning of created.Warnings ?? []) ctx.err(`WARNING: ${warning}\n`);
          ctx.out(`${created.Id}\n`);
        } catch (err) {
          throw await runFailure(err);
        }
      });
  },
};
