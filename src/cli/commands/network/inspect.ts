// berth network inspect [OPTIONS] NETWORK [NETWORK...]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --format <string>', 'Format output using a custom template')
      .option('-v, --verbose', 'Verbose output for diagnostics')
      .argument('<network...>')
      .action(async (refs: string[], flags: { format?: string }) => {
        const found: unknown[] = [];
        const errors: string[] = [];
        for (const ref of refs) {
          try {
            found.push(await ctx.client().networks.inspect(ref));
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
