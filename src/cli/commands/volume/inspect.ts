// berth volume inspect [OPTIONS] VOLUME [VOLUME...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .argument('<volume...>')
      .action(async (names: string[], flags: { format?: string }) => {
        const found: unknown[] = [];
        const errors: string[] = [];
        for (const name of names) {
          try {
            found.push(await ctx.client().volumes.inspect(name));
          } catch (err) {
            errors.push(await describeError(err));
          }
        }
        if (flags.format) {
          const template = compileTemplate(unescapeFormat(flags.format === 'json' ? '{{json .}}' : flags.format));
          for (const v of found) ctx.out(template.execute(v) + '\n');
        } else {
          ctx.out(JSON.stringify(found, null, 4) + '\n');
        }
        for (const e of errors) ctx.err(`${e}\n`);
        if (errors.length) throw new ExitStatus(1);
      });
  },
};
