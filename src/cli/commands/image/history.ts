// berth history [OPTIONS] IMAGE
import type { Command } from 'commander';
import { humanSize } from '../../../lib/units.ts';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';
import { ago, goTimeString } from '../../format/time.ts';
import { ellipsis } from '../../format/status.ts';

const HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export const command: CommandModule = {
  usage: '[OPTIONS] IMAGE',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--format <string>', 'Format output using a custom template')
      .option('-H, --human', 'Print sizes and dates in human readable format', true)
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .argument('<image>')
      .action(async (image: string, flags: { format?: string; human?: boolean; trunc?: boolean; quiet?: boolean }) => {
        const noTrunc = flags.trunc === false;
        const items = await ctx.client().images.history(image);
        const rows = items.map((h) => ({
          Comment: h.Comment,
          CreatedAt: goTimeString(h.Created),
          CreatedBy: noTrunc ? h.CreatedBy : ellipsis(h.CreatedBy.replace(/\t/g, ' '), 45),
          CreatedSince: ago(h.Created),
          ID: h.Id === '<missing>' ? '<missing>' : noTrunc ? h.Id : h.Id.replace(/^sha256:/, '').slice(0, 12),
          Size: humanSize(h.Size),
        }));
        const format = flags.quiet ? '{{.ID}}' : flags.format;
        const defaultTable = '{{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}';
        ctx.out(formatList({ format, defaultTable, headers: HEADERS, rows }));
      });
  },
};
