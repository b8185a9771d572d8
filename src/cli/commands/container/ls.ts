// berth ps / berth container ls
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { humanSize } from '../../../lib/units.ts';
import type { ContainerSummary } from '../../../types/docker.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';
import { ago, goTimeString } from '../../format/time.ts';
import { ellipsis, goQuote } from '../../format/status.ts';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  last?: string;
  latest?: boolean;
  size?: boolean;
  filter?: string[];
  noTrunc?: boolean;
  format?: string;
}

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
      .option('--format <string>', 'Format output using a custom template')
      .option('-n, --last <int>', 'Show n last created containers (includes all states)')
      .option('-l, --latest', 'Show the latest created container (includes all states)')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only display container IDs')
      .option('-s, --size', 'Display total file sizes')
      .action(async (flags: PsFlags & { trunc?: boolean }) => {
        const noTrunc = flags.trunc === false;
        let limit = flags.last !== undefined ? Number(flags.last) : -1;
        if (Number.isNaN(limit)) throw new CliError(`invalid argument "${flags.last}" for "-n, --last" flag`, { exitCode: 125, usage: true });
        if (flags.latest && limit === -1) limit = 1;
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument "${flags.filter?.join(' ')}" for "-f, --filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        const wantSize = Boolean(flags.size) || Boolean(flags.format?.includes('.Size'));
        const list = await ctx.client().containers.list({ all: flags.all, limit: limit > 0 ? limit : undefined, size: wantSize, filters });
        const rows = list.map((c) => psRow(c, { noTrunc }));
        let format = flags.format;
        if (flags.quiet) format = '{{.ID}}';
        const defaultTable = `{{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}${flags.size ? '\\t{{.Size}}' : ''}`;
        ctx.out(formatList({ format, defaultTable, headers: PS_HEADERS, rows }));
      });
  },
};

/** A container as docker's formatter shows it; keys sorted as Go's json of its context prints them. */
export function psRow(c: ContainerSummary, options: { noTrunc: boolean; now?: number }): Record<string, unknown> {
  const id = options.noTrunc ? c.Id : c.Id.slice(0, 12);
  const command = goQuote(options.noTrunc ? c.Command : ellipsis(c.Command, 20));
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => options.noTrunc || !n.includes('/'));
  const labels = Object.entries(c.Labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const mounts = (c.Mounts ?? []).map((m) => (m.Name ? m.Name : options.noTrunc ? m.Source : ellipsis(m.Source, 15))).join(',');
  const localVolumes = (c.Mounts ?? []).filter((m) => m.Driver === 'local').length;
  const size =
    c.SizeRw !== undefined || c.SizeRootFs !== undefined
      ? `${humanSize(c.SizeRw ?? 0)} (virtual ${humanSize(c.SizeRootFs ?? 0)})`
      : '0B';
  return {
    Command: command,
    CreatedAt: goTimeString(c.Created),
    ID: id,
    Image: c.Image,
    Labels: labels,
    LocalVolumes: String(localVolumes),
    Mounts: mounts,
    Names: names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Platform: null,
    Ports: formatPorts(c),
    RunningFor: ago(c.Created, options.now),
    Size: size,
    State: c.State,
    Status: c.Status,
  };
}

/** "0.0.0.0:8080->80/tcp, 443/tcp" */
function formatPorts(c: ContainerSummary): string {
  return (c.Ports ?? [])
    .map((p) => (p.PublicPort ? `${p.IP ?? ''}${p.IP ? ':' : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}
