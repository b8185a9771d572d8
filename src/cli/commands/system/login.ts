// berth login [OPTIONS] [SERVER]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { configPath, credentialsFor, readConfig, registryKey, writeConfig } from '../../config-file.ts';
import { CliError, type CliContext } from '../../context.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const c of stream as AsyncIterable<Buffer | string>) s += c.toString();
  return s;
}

export const command: CommandModule = {
  usage: '[OPTIONS] [SERVER]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-u, --username <string>', 'Username')
      .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
      .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
      .argument('[server]')
      .action(async (server: string | undefined, flags: { username?: string; password?: string; passwordStdin?: boolean }) => {
        const key = registryKey(server);
        let { username, password } = flags;
        if (flags.passwordStdin) {
          if (password !== undefined) throw new CliError('--password and --password-stdin are mutually exclusive');
          if (!username) throw new CliError('Must provide --username with --password-stdin');
          password = (await readAll(ctx.io.stdin)).replace(/\r?\n$/, '');
        } else if (password !== undefined) {
          ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
        }
        if (!username || password === undefined) {
          const stored = credentialsFor(ctx.io.env, key);
          if (stored?.username && stored.password !== undefined && !username) {
            username = stored.username;
            password = stored.password;
          } else {
            throw new CliError('Error: Cannot perform an interactive login from a non TTY device; use --username and --password-stdin');
          }
        }
        const res = await ctx.client().auth.login({ username, password, serveraddress: key });
        const cfg = readConfig(ctx.io.env);
        cfg.auths ??= {};
        cfg.auths[key] = res.IdentityToken ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken: res.IdentityToken } : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
        writeConfig(ctx.io.env, cfg);
        ctx.err(`WARNING! Your credentials are stored unencrypted in '${configPath(ctx.io.env)}'.\n`);
        ctx.out(`${res.Status || 'Login Succeeded'}\n`);
      });
  },
};
