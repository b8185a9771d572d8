// berth events [OPTIONS]
import type { Command } from 'commander';
import { parseFilterArgs } from '../../../client/filters.ts';
import type { EventMessage } from '../../../types/docker.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';
import { apiTimestamp, rfc3339Nano } from '../../format/time.ts';

/** docker's default line: `<time> container die <id> (exitCode=0, image=busybox, name=x)`. */
export function formatEvent(ev: EventMessage): string {
  const time = ev.timeNano ? rfc3339Nano(ev.timeNano) : rfc3339Nano(BigInt(ev.time) * 1_000_000_000n);
  const attrs = Object.entries(ev.Actor?.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return `${time} ${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
      .option('--format <string>', 'Format output using a custom template')
      .option('--since <string>', 'Show all events created since timestamp')
      .option('--until <string>', 'Stream events until this timestamp')
      .action(async (flags: { filter?: string[]; format?: string; since?: string; until?: string }) => {
        let since: string | undefined;
        let until: string | undefined;
        let filters;
        try {
          since = flags.since !== undefined ? apiTimestamp(flags.since) : undefined;
          until = flags.until !== undefined ? apiTimestamp(flags.until) : undefined;
          filters = parseFilterArgs(flags.filter ?? []);
        } catch (err) {
          throw new CliError(`Error: ${(err as Error).message}`);
        }
        const template = flags.format ? compileTemplate(unescapeFormat(flags.format === 'json' ? '{{json .}}' : flags.format)) : undefined;
        for await (const ev of ctx.client().system.events({ since, until, filters })) {
          ctx.out((template ? template.execute(ev) : formatEvent(ev)) + '\n');
        }
      });
  },
};
