// berth network ls [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';

const HEADERS: Record<string, string> = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect)
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-trunc', 'Do not truncate the output')
      .option('-q, --quiet', 'Only display network IDs')
      .action(async (flags: { filter?: string[]; format?: string; trunc: boolean; quiet?: boolean }) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "-f, --filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        const nets = await ctx.client().networks.list({ filters });
        const rows = nets
          .sort((a, b) => a.Name.localeCompare(b.Name))
          .map((n) => ({
            ID: flags.trunc ? n.Id.slice(0, 12) : n.Id,
            Name: n.Name,
            Driver: n.Driver,
            Scope: n.Scope,
            IPv6: String(n.EnableIPv6),
            Internal: String(n.Internal),
            Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
            CreatedAt: n.Created,
          }));
        ctx.out(formatList({ format: flags.quiet ? '{{.ID}}' : flags.format, defaultTable: '{{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}', headers: HEADERS, rows }));
      });
  },
};
