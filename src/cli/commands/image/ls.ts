// berth images / berth image ls [OPTIONS] [REPOSITORY[:TAG]]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import { humanSize } from '../../../lib/units.ts';
import type { ImageSummary } from '../../../types/docker.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { formatList } from '../../format/table.ts';
import { ago, goTimeString } from '../../format/time.ts';

export const IMAGE_HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

interface ImagesFlags {
  all?: boolean;
  quiet?: boolean;
  filter?: string[];
  format?: string;
  digests?: boolean;
  trunc?: boolean;
}

export const command: CommandModule = {
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
      .option('--format <string>', 'Format output using a custom template')
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .argument('[repository]')
      .action(async (repository: string | undefined, flags: ImagesFlags) => {
        let filters;
        try {
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`invalid argument for "-f, --filter" flag: ${(err as Error).message}`, { exitCode: 125, usage: true });
        }
        if (repository) (filters.reference ??= []).push(repository);
        const images = await ctx.client().images.list({ all: flags.all, filters });
        const noTrunc = flags.trunc === false;
        let rows = imageRows(images, { noTrunc });
        let format = flags.format;
        if (flags.quiet) {
          // one line per image, not per tag
          const seen = new Set<unknown>();
          rows = rows.filter((r) => !seen.has(r.ID) && seen.add(r.ID));
          format = '{{.ID}}';
        }
        const defaultTable = `{{.Repository}}\\t{{.Tag}}${flags.digests ? '\\t{{.Digest}}' : ''}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}`;
        ctx.out(formatList({ format, defaultTable, headers: IMAGE_HEADERS, rows }));
      });
  },
};

/** One row per repository:tag (docker's image formatter); untagged images show <none>. */
export function imageRows(images: ImageSummary[], options: { noTrunc: boolean; now?: number }): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const img of images) {
    const id = options.noTrunc ? img.Id : img.Id.replace(/^sha256:/, '').slice(0, 12);
    const digestOf = (repo: string): string => {
      const d = (img.RepoDigests ?? []).find((rd) => rd.startsWith(`${repo}@`));
      return d ? d.slice(repo.length + 1) : '<none>';
    };
    const base = (repository: string, tag: string, digest: string): Record<string, unknown> => ({
      Containers: img.Containers >= 0 ? String(img.Containers) : 'N/A',
      CreatedAt: goTimeString(img.Created),
      CreatedSince: ago(img.Created, options.now),
      Digest: digest,
      ID: id,
      Repository: repository,
      SharedSize: img.SharedSize >= 0 ? humanSize(img.SharedSize) : 'N/A',
      Size: humanSize(img.Size),
      Tag: tag,
      UniqueSize: img.SharedSize >= 0 ? humanSize(img.Size - img.SharedSize) : 'N/A',
      VirtualSize: humanSize(img.VirtualSize ?? img.Size),
    });
    const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    if (tags.length === 0) {
      const digests = img.RepoDigests ?? [];
      if (digests.length === 0) rows.push(base('<none>', '<none>', '<none>'));
      for (const rd of digests) {
        const at = rd.indexOf('@');
        rows.push(base(rd.slice(0, at), '<none>', rd.slice(at + 1)));
      }
      continue;
    }
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      const repo = t.slice(0, colon);
      rows.push(base(repo, t.slice(colon + 1), digestOf(repo)));
    }
  }
  return rows;
}
