// berth network create [OPTIONS] NETWORK
import type { Command } from 'commander';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { keyValues } from '../volume/create.ts';
import type { IpamConfigEntry } from '../../../types/networks.ts';

interface Flags {
  driver: string;
  subnet?: string[];
  ipRange?: string[];
  gateway?: string[];
  internal?: boolean;
  attachable?: boolean;
  ipv6?: boolean;
  label?: string[];
  opt?: string[];
  ipamDriver: string;
  ipamOpt?: string[];
}

/** --subnet/--ip-range/--gateway into IPAM configs, as docker pairs them (by subnet). */
function ipamConfigs(f: Flags): IpamConfigEntry[] {
  const out: IpamConfigEntry[] = (f.subnet ?? []).map((s) => ({ Subnet: s }));
  const within = (kind: string, value: string, set: (c: IpamConfigEntry) => void): void => {
    if (out.length === 0) throw new CliError(`invalid argument: ${kind} ${value} requires a --subnet`, { exitCode: 1 });
    const target = out.length === 1 ? out[0] : out.find((c) => c.Subnet.includes(':') === value.includes(':'));
    if (!target) throw new CliError(`no matching subnet for ${kind} ${value}`, { exitCode: 1 });
    set(target);
  };
  for (const r of f.ipRange ?? []) within('range', r, (c) => (c.IPRange = r));
  for (const g of f.gateway ?? []) within('gateway', g, (c) => (c.Gateway = g));
  return out;
}

export const command: CommandModule = {
  usage: '[OPTIONS] NETWORK',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
      .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect)
      .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect)
      .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
      .option('--internal', 'Restrict external access to the network')
      .option('--attachable', 'Enable manual container attachment')
      .option('--ipv6', 'Enable or disable IPv6 networking')
      .option('--label <list>', 'Set metadata on a network', collect)
      .option('-o, --opt <map>', 'Set driver specific options', collect)
      .option('--ipam-driver <string>', 'IP Address Management Driver', 'default')
      .option('--ipam-opt <map>', 'Set IPAM driver specific options', collect)
      .argument('<network>')
      .action(async (name: string, flags: Flags) => {
        const res = await ctx.client().networks.create({
          Name: name,
          Driver: flags.driver,
          Internal: !!flags.internal,
          Attachable: !!flags.attachable,
          EnableIPv6: !!flags.ipv6,
          IPAM: { Driver: flags.ipamDriver, Options: keyValues(flags.ipamOpt, '-o, --opt', true), Config: ipamConfigs(flags) },
          Options: keyValues(flags.opt, '-o, --opt', true),
          Labels: keyValues(flags.label, '--label', false),
        });
        ctx.out(`${res.Id}\n`);
      });
  },
};
