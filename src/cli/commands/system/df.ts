// berth system df [OPTIONS]
import type { Command } from 'commander';
import type { SystemDfResponse } from '../../../client/system.ts';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { alignColumns } from '../../format/table.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

/** go-units' HumanSize: decimal units, 4 significant digits ("1.982MB"). */
function humanSize4(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

function reclaimable(reclaim: number, total: number): string {
  return total > 0 ? `${humanSize4(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)` : humanSize4(reclaim);
}

interface Row {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

/** The four summary rows, computed as docker's CLI does (formatter/disk_usage.go). */
export function dfRows(df: SystemDfResponse): Row[] {
  const images = df.Images ?? [];
  const layers = df.LayersSize ?? 0;
  let usedImages = 0;
  for (const i of images) if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) usedImages += i.Size - i.SharedSize;
  const containers = df.Containers ?? [];
  const isActive = (s: string): boolean => s === 'running' || s === 'paused' || s === 'restarting';
  const ctrSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const ctrReclaim = containers.filter((c) => !isActive(c.State)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volumes = (df.Volumes ?? []) as Array<{ UsageData?: { Size: number; RefCount: number } | null }>;
  const volSize = volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cache = (df.BuildCache ?? []) as Array<{ InUse?: boolean; Shared?: boolean; Size?: number }>;
  const cacheSize = cache.filter((c) => !c.Shared).reduce((n, c) => n + (c.Size ?? 0), 0);
  const cacheReclaim = cache.filter((c) => !c.Shared && !c.InUse).reduce((n, c) => n + (c.Size ?? 0), 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize4(layers), Reclaimable: reclaimable(layers - usedImages, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => isActive(c.State)).length), Size: humanSize4(ctrSize), Reclaimable: reclaimable(ctrReclaim, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize4(volSize), Reclaimable: reclaimable(volReclaim, volSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize4(cacheSize), Reclaimable: reclaimable(cacheReclaim, cacheSize) },
  ];
}

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--format <string>', 'Format output using a custom template')
      .option('-v, --verbose', 'Show detailed information on space usage')
      .action(async (flags: { format?: string; verbose?: boolean }) => {
        const df = await ctx.client().system.df();
        const rows = dfRows(df);
        if (flags.format) {
          const t = compileTemplate(unescapeFormat(flags.format === 'json' ? '{{json .}}' : flags.format));
          for (const r of rows) ctx.out(t.execute(r as unknown as Record<string, unknown>) + '\n');
          return;
        }
        const lines = ['TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE', ...rows.map((r) => `${r.Type}\t${r.TotalCount}\t${r.Active}\t${r.Size}\t${r.Reclaimable}`)];
        ctx.out(alignColumns(lines.join('\n') + '\n'));
        if (flags.verbose) {
          ctx.out('\nImages space usage:\n\n');
          const img = ['REPOSITORY\tTAG\tIMAGE ID\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS'];
          for (const i of df.Images ?? []) {
            const [repo, tag] = (i.RepoTags?.[0] ?? '<none>:<none>').split(/:(?=[^:/]*$)/);
            img.push(`${repo}\t${tag ?? '<none>'}\t${i.Id.replace(/^sha256:/, '').slice(0, 12)}\t${humanSize4(i.Size)}\t${humanSize4(i.SharedSize)}\t${humanSize4(i.Size - i.SharedSize)}\t${i.Containers}`);
          }
          ctx.out(alignColumns(img.join('\n') + '\n'));
          ctx.out('\nContainers space usage:\n\n');
          const ctr = ['CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES'];
          for (const c of df.Containers ?? []) ctr.push(`${c.Id.slice(0, 12)}\t${c.Image}\t"${c.Command}"\t0\t${humanSize4(c.SizeRw ?? 0)}\t${c.Created}\t${c.Status}\t${c.Names[0]?.replace(/^\//, '')}`);
          ctx.out(alignColumns(ctr.join('\n') + '\n'));
        }
      });
  },
};
