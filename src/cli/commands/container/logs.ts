// berth logs [OPTIONS] CONTAINER
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { copyRaw, demuxTo } from '../../../client/demux.ts';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { apiTimestamp } from '../../format/time.ts';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
  details?: boolean;
}

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--details', 'Show extra details provided to logs')
      .option('-f, --follow', 'Follow log output')
      .option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'Show timestamps')
      .option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
      .argument('<container>')
      .action(async (container: string, flags: LogsFlags) => {
        const client = ctx.client();
        let since: string | undefined;
        let until: string | undefined;
        try {
          since = flags.since !== undefined ? apiTimestamp(flags.since) : undefined;
          until = flags.until !== undefined ? apiTimestamp(flags.until) : undefined;
        } catch (err) {
          throw new CliError(`Error: ${(err as Error).message}`);
        }
        // the stream is framed unless the container has a TTY, which only inspect tells
        const info = await client.containers.inspect(container);
        const stream = await client.containers.logs(info.Id, {
          follow: flags.follow,
          tail: flags.tail,
          since,
          until,
          timestamps: flags.timestamps,
          details: flags.details,
        });
        if (info.Config.Tty) await copyRaw(stream as Readable, ctx.io.stdout);
        else await demuxTo(stream as Readable, ctx.io);
      });
  },
};
