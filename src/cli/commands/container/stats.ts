// berth stats [OPTIONS] [CONTAINER...]
import type { Command } from 'commander';
import type { ContainerStatsJson } from '../../../client/container-ops.ts';
import { humanSize } from '../../../lib/units.ts';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';

interface StatsFlags {
  all?: boolean;
  noStream?: boolean;
  noTrunc?: boolean;
  format?: string;
}

interface StatsRow {
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

const DEFAULT_TABLE = '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const HEADERS: Record<string, string> = { Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };

/** go-units' BytesSize: binary units with 4 significant digits ("1.137MiB"). */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** The docker CLI's arithmetic over one stats object (cli/command/container/stats_helpers.go). */
export function statsRow(s: ContainerStatsJson, name: string, noTrunc: boolean): StatsRow {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const m = s.memory_stats;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  const usage = (m.usage ?? 0) - (inactive < (m.usage ?? 0) ? inactive : 0);
  const limit = m.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') read += e.value;
    else if (e.op.toLowerCase() === 'write') write += e.value;
  }
  const id = noTrunc ? s.id : s.id.slice(0, 12);
  return {
    Container: id,
    ID: id,
    Name: name.replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(usage)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (usage / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats.current ?? 0),
  };
}

export const command: CommandModule = {
  usage: '[OPTIONS] [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-stream', 'Disable streaming stats and only pull the first result')
      .option('--no-trunc', 'Do not truncate output')
      .argument('[container...]')
      .action(async (names: string[], flags: StatsFlags & { stream?: boolean; trunc?: boolean }) => {
        const client = ctx.client();
        const noStream = flags.stream === false;
        const noTrunc = flags.trunc === false;
        const targets = names.length ? names : (await client.containers.list({ all: flags.all })).map((c) => c.Id);
        const once = async (): Promise<StatsRow[]> =>
          Promise.all(
            targets.map(async (t) => {
              const s = await client.containerOps.stats(t);
              return statsRow(s, s.name || t, noTrunc);
            }),
          );
        const render = (rows: StatsRow[]): string => formatList({ format: flags.format, defaultTable: DEFAULT_TABLE, headers: HEADERS, rows });
        if (noStream) {
          ctx.out(render(await once()));
          return;
        }
        // Streaming: redraw once a second (on a terminal the screen is cleared first, as docker does).
        for (;;) {
          const rows = await once();
          ctx.out((ctx.io.stdout.isTTY ? '\x1b[2J\x1b[H' : '') + render(rows));
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
  },
};
