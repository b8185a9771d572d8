// berth version [OPTIONS]
import type { Command } from 'commander';
import { API_VERSION, ENGINE_VERSION } from '../../../api/version.ts';
import type { VersionResponse } from '../../../types/docker.ts';
import type { CommandModule } from '../../command.ts';
import { ExitStatus, describeError, type CliContext } from '../../context.ts';
import { compileTemplate, unescapeFormat } from '../../format/template.ts';

export const command: CommandModule = {
  usage: '[OPTIONS]',
  define(cmd: Command, ctx: CliContext): void {
    cmd.option('-f, --format <string>', 'Format output using a custom template').action(async (flags: { format?: string }) => {
      const client = ctx.client();
      let server: VersionResponse | undefined;
      let serverError: unknown;
      let negotiated = API_VERSION;
      try {
        negotiated = await client.apiVersion();
        server = await client.system.version();
      } catch (err) {
        serverError = err;
      }
      const clientInfo = {
        Version: ENGINE_VERSION,
        ApiVersion: negotiated,
        DefaultAPIVersion: API_VERSION,
        GoVersion: process.version,
        Os: process.platform,
        Arch: process.arch === 'x64' ? 'amd64' : process.arch,
        Context: 'default',
      };
      if (flags.format) {
        const template = compileTemplate(unescapeFormat(flags.format === 'json' ? '{{json .}}' : flags.format));
        ctx.out(template.execute({ Client: clientInfo, Server: server ?? null }) + '\n');
      } else {
        const downgraded = negotiated !== API_VERSION ? ` (downgraded from ${API_VERSION})` : '';
        const lines = [
          'Client:',
          ` Version:           ${clientInfo.Version}`,
          ` API version:       ${negotiated}${downgraded}`,
          ` Node version:      ${clientInfo.GoVersion}`,
          ` OS/Arch:           ${clientInfo.Os}/${clientInfo.Arch}`,
          ` Context:           default`,
        ];
        if (server) {
          lines.push('', `Server: ${server.Platform?.Name ?? ''}`.trimEnd());
          for (const component of server.Components ?? [{ Name: 'Engine', Version: server.Version, Details: {} }]) {
            lines.push(` ${component.Name}:`, `  Version:          ${component.Version}`);
            if (component.Name === 'Engine') {
              lines.push(
                `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})`,
                `  Git commit:       ${server.GitCommit}`,
                `  Built:            ${server.BuildTime}`,
                `  OS/Arch:          ${server.Os}/${server.Arch}`,
              );
            } else {
              for (const [k, v] of Object.entries(component.Details ?? {})) lines.push(`  ${k}:${' '.repeat(Math.max(1, 17 - k.length))}${v}`);
            }
          }
        }
        ctx.out(lines.join('\n') + '\n');
      }
      if (serverError) {
        ctx.err(`${await describeError(serverError)}\n`);
        throw new ExitStatus(1);
      }
    });
  },
};
