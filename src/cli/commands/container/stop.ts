// berth stop [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { invalidFlag, type CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-s, --signal <string>', 'Signal to send to the container')
      .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
      .argument('<container...>')
      .action(async (names: string[], flags: { signal?: string; timeout?: string }) => {
        const timeout = parseTimeout(flags.timeout);
        // 304 (already stopped) is a success: docker prints the name and exits 0
        await forEachContainer(ctx, names, async (name) => {
          await ctx.client().containers.stop(name, { signal: flags.signal, timeout });
        });
      });
  },
};

export function parseTimeout(value: string | undefined, flag = '-t, --timeout'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidFlag(value, flag, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}
