// berth volume create [OPTIONS] [VOLUME]
import type { Command } from 'commander';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

/** `-o key=value` / `--label key[=value]` lists into a map. */
export function keyValues(list: string[] | undefined, flag: string, requireValue: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq === 0 || (requireValue && eq < 0)) throw new CliError(`invalid argument "${item}" for "${flag}" flag: bad format for ${flag === '-o, --opt' ? 'opts' : 'labels'}: ${item}`, { exitCode: 125, usage: true });
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return out;
}

export const command: CommandModule = {
  usage: '[OPTIONS] [VOLUME]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-d, --driver <string>', 'Specify volume driver name', 'local')
      .option('--label <list>', 'Set metadata for a volume', collect)
      .option('-o, --opt <map>', 'Set driver specific options', collect)
      .option('--name <string>', 'Specify volume name')
      .argument('[volume]')
      .action(async (volume: string | undefined, flags: { driver: string; label?: string[]; opt?: string[]; name?: string }) => {
        if (volume && flags.name && volume !== flags.name) {
          throw new CliError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`, { exitCode: 1 });
        }
        const v = await ctx.client().volumes.create({
          Name: volume ?? flags.name ?? '',
          Driver: flags.driver,
          DriverOpts: keyValues(flags.opt, '-o, --opt', true),
          Labels: keyValues(flags.label, '--label', false),
        });
        ctx.out(`${v.Name}\n`);
      });
  },
};
