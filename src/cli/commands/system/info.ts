// berth info [OPTIONS]
import type { Command } from 'commander';
import { humanSize } from '../../../lib/units.ts';
import type { CommandModule } from '../../command.ts';
import type { CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd.option('-f, --format <string>', 'Format output using a custom template').action(async (flags: { format?: string }) => {
      const info = await ctx.client().system.info();
      if (flags.format) {
        const template = compileTemplate(unescapeFormat(flags.format === 'json' ? '{{json .}}' : flags.format));
        ctx.out(template.execute(info) + '\n');
        return;
      }
      const v = (key: string): string => (info[key] === undefined || info[key] === null ? '' : String(info[key]));
      const lines = [
        'Client:',
        ' Context:    default',
        ' Debug Mode: false',
        '',
        'Server:',
        ` Containers: ${v('Containers')}`,
        `  Running: ${v('ContainersRunning')}`,
        `  Paused: ${v('ContainersPaused')}`,
        `  Stopped: ${v('ContainersStopped')}`,
        ` Images: ${v('Images')}`,
        ` Server Version: ${v('ServerVersion')}`,
        ` Storage Driver: ${v('Driver')}`,
        ` Logging Driver: ${v('LoggingDriver')}`,
        ` Cgroup Driver: ${v('CgroupDriver')}`,
        ` Cgroup Version: ${v('CgroupVersion')}`,
        ` Default Runtime: ${v('DefaultRuntime')}`,
        ` Kernel Version: ${v('KernelVersion')}`,
        ` Operating System: ${v('OperatingSystem')}`,
        ` OSType: ${v('OSType')}`,
        ` Architecture: ${v('Architecture')}`,
        ` CPUs: ${v('NCPU')}`,
        ` Total Memory: ${typeof info.MemTotal === 'number' ? humanSize(info.MemTotal).replace(/B$/, 'iB') : ''}`,
        ` Name: ${v('Name')}`,
        ` ID: ${v('ID')}`,
        ` Docker Root Dir: ${v('DockerRootDir')}`,
        ` Debug Mode: ${v('Debug') || 'false'}`,
        ` Experimental: ${v('ExperimentalBuild') || 'false'}`,
        ` Live Restore Enabled: ${v('LiveRestoreEnabled') || 'false'}`,
      ];
      ctx.out(lines.join('\n') + '\n');
      for (const warning of (info.Warnings as string[] | null | undefined) ?? []) ctx.err(`${warning}\n`);
    });
  },
};
