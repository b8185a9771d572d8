// berth port CONTAINER [PRIVATE_PORT[/PROTO]]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .argument('<container>')
      .argument('[port]')
      .action(async (container: string, port: string | undefined) => {
        const info = await ctx.client().containers.inspect(container);
        const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
        const show = (b: { HostIp: string; HostPort: string }): string => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
        if (port) {
          const key = port.includes('/') ? port : `${port}/tcp`;
          const list = ports[key];
          if (!list?.length) throw new CliError(`Error: No public port '${key}' published for ${container}`, { exitCode: 1 });
          ctx.out(list.map(show).join('\n') + '\n');
          return;
        }
        const lines: string[] = [];
        for (const [key, list] of Object.entries(ports)) for (const b of list ?? []) lines.push(`${key} -> ${show(b)}`);
        if (lines.length) ctx.out(lines.join('\n') + '\n');
      });
  },
};
