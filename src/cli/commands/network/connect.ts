// berth network connect [OPTIONS] NETWORK CONTAINER
import type { Command } from 'commander';
import { collect, type CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--alias <strings>', 'Add network-scoped alias for the container', collect)
      .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
      .option('--ip6 <string>', 'IPv6 address (e.g., "2001:db8::33")')
      .option('--driver-opt <strings>', 'driver options for the network', collect)
      .argument('<network>')
      .argument('<container>')
      .action(async (network: string, container: string, flags: { alias?: string[]; ip?: string; ip6?: string; driverOpt?: string[] }) => {
        const driverOpts: Record<string, string> = {};
        for (const kv of flags.driverOpt ?? []) {
          const i = kv.indexOf('=');
          driverOpts[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
        }
        await ctx.client().networks.connect(network, {
          Container: container,
          EndpointConfig: {
            IPAMConfig: flags.ip || flags.ip6 ? { IPv4Address: flags.ip ?? '', IPv6Address: flags.ip6 ?? '' } : null,
            Aliases: flags.alias ?? null,
            DriverOpts: Object.keys(driverOpts).length ? driverOpts : null,
          },
        });
      });
  },
};
