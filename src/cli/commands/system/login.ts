// berth login [OPTIONS] [SERVER]
import type { Command } from 'commander';
import type { CommandModule } from '../../command.ts';
import { configPath, credentialsFor, readConfig, registryKey, writeConfig } from '../../config-file.ts';
import { CliError, type CliContext } from '../../context.ts';

/** One line from a terminal; with `secret`, typed characters are not echoed. */
async function prompt(ctx: CliContext, question: string, secret: boolean): Promise<string> {
  const { stdin } = ctx.io;
  // Echo goes off before the prompt appears: whatever is typed once it shows is not echoed.
  if (secret) stdin.setRawMode?.(true);
  ctx.out(question);
  try {
    // 'data' listeners, not for-await: leaving a for-await loop would destroy stdin for the next prompt
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const done = (err?: Error): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        if (err) reject(err);
        else resolve(line);
      };
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === '\u0003') return done(new CliError('', { exitCode: 130 }));
          if (ch === '\r' || ch === '\n') return done();
          if (ch === '\u007f') line = line.slice(0, -1);
          else line += ch;
        }
      };
      const onEnd = (): void => done();
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    });
  } finally {
    if (secret) {
      stdin.setRawMode?.(false);
      ctx.out('\n');
    }
  }
}

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
          if (stored?.username && stored.password !== undefined && !username && !ctx.io.stdin.isTTY) {
            username = stored.username;
            password = stored.password;
          } else if (ctx.io.stdin.isTTY) {
            if (!username) username = (await prompt(ctx, `Username${stored?.username ? ` (${stored.username})` : ''}: `, false)).trim() || stored?.username;
            if (!username) throw new CliError('Error: Non-null Username Required');
            password = await prompt(ctx, 'Password: ', true);
            if (password === '') throw new CliError('Error: Password Required');
          } else {
            throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
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
