// berth update [OPTIONS] CONTAINER [CONTAINER...]
import type { Command } from 'commander';
import type { UpdateBody } from '../../../client/container-ops.ts';
import { parseBytes } from '../../../lib/units.ts';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';
import { forEachContainer } from './each.ts';

interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  restart?: string;
}

function int(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value)) throw new CliError(`invalid argument "${value}" for "${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`, { exitCode: 125 });
  return Number(value);
}

function bytes(value: string, flag: string): number {
  if (value === '-1') return -1;
  try {
    return parseBytes(value);
  } catch {
    throw new CliError(`invalid argument "${value}" for "${flag}" flag: invalid size: '${value}'`, { exitCode: 125 });
  }
}

/** The request body from the flags that were given (unset fields stay as they are). */
export function updateBody(flags: UpdateFlags): UpdateBody {
  const body: UpdateBody = {};
  if (flags.memory !== undefined) body.Memory = bytes(flags.memory, '--memory');
  if (flags.memorySwap !== undefined) body.MemorySwap = bytes(flags.memorySwap, '--memory-swap');
  if (flags.memoryReservation !== undefined) body.MemoryReservation = bytes(flags.memoryReservation, '--memory-reservation');
  if (flags.cpus !== undefined) {
    const n = Number(flags.cpus);
    if (!Number.isFinite(n) || n < 0) throw new CliError(`invalid argument "${flags.cpus}" for "--cpus" flag: failed to parse ${flags.cpus} as a rational number`, { exitCode: 125 });
    body.NanoCpus = Math.round(n * 1e9);
  }
  if (flags.cpuShares !== undefined) body.CpuShares = int(flags.cpuShares, '--cpu-shares');
  if (flags.cpuPeriod !== undefined) body.CpuPeriod = int(flags.cpuPeriod, '--cpu-period');
  if (flags.cpuQuota !== undefined) body.CpuQuota = int(flags.cpuQuota, '--cpu-quota');
  if (flags.cpusetCpus !== undefined) body.CpusetCpus = flags.cpusetCpus;
  if (flags.cpusetMems !== undefined) body.CpusetMems = flags.cpusetMems;
  if (flags.pidsLimit !== undefined) body.PidsLimit = int(flags.pidsLimit, '--pids-limit');
  if (flags.restart !== undefined) {
    const [name, count] = flags.restart.split(':');
    body.RestartPolicy = { Name: name, ...(count !== undefined ? { MaximumRetryCount: int(count, '--restart') } : {}) };
  }
  return body;
}

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
      .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
      .option('--cpus <decimal>', 'Number of CPUs')
      .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
      .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
      .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
      .option('-m, --memory <bytes>', 'Memory limit')
      .option('--memory-reservation <bytes>', 'Memory soft limit')
      .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap')
      .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
      .option('--restart <string>', 'Restart policy to apply when a container exits')
      .argument('<container...>')
      .action(async (names: string[], flags: UpdateFlags) => {
        const body = updateBody(flags);
        if (Object.keys(body).length === 0) throw new CliError('you must provide one or more flags when using this command', { usage: true });
        await forEachContainer(ctx, names, async (name) => {
          const r = await ctx.client().containerOps.update(name, body);
          for (const w of r.Warnings ?? []) ctx.err(`${w}\n`);
        });
      });
  },
};
