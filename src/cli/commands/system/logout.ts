// berth logout [SERVER] (no API call, as docker)
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { readConfig, registryKey, writeConfig } from '../../config-file.ts';
import type { CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[SERVER]',
  define(cmd: Command, ctx: CliContext): void {
    cmd.argument('[server]').action(async (server: string | undefined) => {
      const key = registryKey(server);
      const cfg = readConfig(ctx.io.env);
      if (!cfg.auths?.[key]) {
        ctx.out(`Not logged in to ${server ?? key}\n`);
        return;
      }
      delete cfg.auths[key];
      writeConfig(ctx.io.env, cfg);
      ctx.out(`Removing login credentials for ${server ?? key}\n`);
    });
  },
};
