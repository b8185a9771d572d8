// berth volume ls [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';

const HEADERS: Record<string, string> = { Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE' };

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect)
      .option('--format <string>', 'Format output using a custom template')
      .option('-q, --quiet', 'Only display volume names')
      .action(async (flags: { filter?: string[]; format?: string; quiet?: boolean }) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "-f, --filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        const res = await ctx.client().volumes.list({ filters });
        const rows = res.Volumes.sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => ({
          Driver: v.Driver,
          Name: v.Name,
          Scope: v.Scope,
          Mountpoint: v.Mountpoint,
          Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
          Links: 'N/A',
          Size: 'N/A',
        }));
        ctx.out(formatList({ format: flags.quiet ? '{{.Name}}' : flags.format, defaultTable: '{{.Driver}}\\t{{.Name}}', headers: HEADERS, rows }));
        for (const w of res.Warnings ?? []) ctx.err(`${w}\n`);
      });
  },
};
