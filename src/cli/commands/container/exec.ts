// berth exec [OPTIONS] CONTAINER COMMAND [ARG...]
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { copyRaw, demuxTo } from '../../../client/demux.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, ExitStatus, type CliContext } from '../../context.ts';
import { enterRawMode, followTerminalSize, terminalSize, ttyOutput } from '../../terminal.ts';

interface ExecFlags {
  detach?: boolean;
  detachKeys?: string;
  env?: string[];
  envFile?: string[];
  interactive?: boolean;
  privileged?: boolean;
  tty?: boolean;
  user?: string;
  workdir?: string;
}

/** KEY=VALUE lines of an --env-file; a bare KEY takes the value from our environment. */
function readEnvFile(path: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.includes('=')) out.push(line);
    else if (env[line] !== undefined) out.push(`${line}=${env[line]}`);
  }
  return out;
}

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-d, --detach', 'Detached mode: run command in the background')
      .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
      .option('-e, --env <list>', 'Set environment variables', collect)
      .option('--env-file <list>', 'Read in a file of environment variables', collect)
      .option('-i, --interactive', 'Keep STDIN open even if not attached')
      .option('--privileged', 'Give extended privileges to the command')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
      .option('-w, --workdir <string>', 'Working directory inside the container')
      .argument('<container>')
      .argument('<command...>')
      .passThroughOptions()
      .action(async (container: string, args: string[], flags: ExecFlags) => {
        const { io } = ctx;
        const client = ctx.client();
        const tty = Boolean(flags.tty);
        if (tty && flags.interactive && !io.stdin.isTTY) throw new CliError('the input device is not a TTY');
        let env: string[] = [];
        try {
          for (const f of flags.envFile ?? []) env.push(...readEnvFile(f, io.env));
        } catch (err) {
          throw new CliError(`open ${(err as NodeJS.ErrnoException).path ?? ''}: no such file or directory`);
        }
        env = [...env, ...(flags.env ?? []).map((e) => (e.includes('=') || io.env[e] === undefined ? e : `${e}=${io.env[e]}`))];
        const detach = Boolean(flags.detach);
        const size = tty ? terminalSize(io) : undefined;
        const { Id } = await client.exec.create(container, {
          User: flags.user ?? '',
          Privileged: Boolean(flags.privileged),
          Tty: tty,
          ConsoleSize: size ? [size.height, size.width] : null,
          AttachStdin: Boolean(flags.interactive) && !detach,
          AttachStdout: !detach,
          AttachStderr: !detach,
          Detach: detach,
          DetachKeys: flags.detachKeys ?? '',
          Env: env,
          WorkingDir: flags.workdir ?? '',
          Cmd: args,
        });
        if (detach) {
          await client.exec.startDetached(Id, { tty });
          return;
        }
        const restore = flags.interactive && tty ? enterRawMode(io) : () => undefined;
        let unfollow = (): void => undefined;
        try {
          const { socket } = await client.exec.start(Id, {
            tty,
            consoleSize: size ? [size.height, size.width] : undefined,
            stdin: flags.interactive ? (io.stdin as Readable) : undefined,
          });
          if (tty) unfollow = followTerminalSize(io, (s) => client.exec.resize(Id, s));
          if (tty) await copyRaw(socket as Readable, flags.interactive ? ttyOutput(io) : io.stdout);
          else await demuxTo(socket as Readable, io);
          socket.destroy();
        } finally {
          unfollow();
          restore();
          if (flags.interactive) io.stdin.pause();
        }
        const info = await client.exec.inspect(Id);
        if (info.ExitCode !== null && info.ExitCode !== 0) throw new ExitStatus(info.ExitCode);
      });
  },
};
