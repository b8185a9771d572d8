// berth's command line: docker's grammar on commander. Only the invoked command's module is
// imported (start-up time is the budget), the others appear as one-line stubs in --help.
import { Command, CommanderError } from 'commander';
import { ENGINE_VERSION } from '../api/version.ts';
import type { EngineClient } from '../client/index.ts';
import type { ClientTlsOptions } from '../client/transport.ts';
import type { CommandModule } from './command.ts';
import { CliContext, CliError, ExitStatus, describeError, type CliIO } from './context.ts';
import { commandWords, isGroup, type Group } from './words.ts';

interface Entry {
  group: Group | undefined;
  name: string;
  /** Other names inside the group (`container ls` = `container ps` = `container list`). */
  aliases?: string[];
  /** Top-level shortcut names (`berth ps`, `berth rmi`). */
  top?: string[];
  summary: string;
  load: () => Promise<{ command: CommandModule }>;
}

const ENTRIES: Entry[] = [
  { group: 'container', name: 'run', top: ['run'], summary: 'Create and run a new container from an image', load: () => import('./commands/container/run.ts') },
  { group: 'container', name: 'create', top: ['create'], summary: 'Create a new container', load: () => import('./commands/container/create.ts') },
  { group: 'container', name: 'start', top: ['start'], summary: 'Start one or more stopped containers', load: () => import('./commands/container/start.ts') },
  { group: 'container', name: 'ls', aliases: ['ps', 'list'], top: ['ps'], summary: 'List containers', load: () => import('./commands/container/ls.ts') },
  { group: 'container', name: 'logs', top: ['logs'], summary: 'Fetch the logs of a container', load: () => import('./commands/container/logs.ts') },
  { group: 'container', name: 'rm', aliases: ['remove'], top: ['rm'], summary: 'Remove one or more containers', load: () => import('./commands/container/rm.ts') },
  { group: 'container', name: 'stop', top: ['stop'], summary: 'Stop one or more running containers', load: () => import('./commands/container/stop.ts') },
  { group: 'container', name: 'kill', top: ['kill'], summary: 'Kill one or more running containers', load: () => import('./commands/container/kill.ts') },
  { group: 'container', name: 'restart', top: ['restart'], summary: 'Restart one or more containers', load: () => import('./commands/container/restart.ts') },
  { group: 'container', name: 'wait', top: ['wait'], summary: 'Block until one or more containers stop, then print their exit codes', load: () => import('./commands/container/wait.ts') },
  { group: 'container', name: 'rename', top: ['rename'], summary: 'Rename a container', load: () => import('./commands/container/rename.ts') },
  { group: 'container', name: 'commit', top: ['commit'], summary: "Create a new image from a container's changes", load: () => import('./commands/container/commit.ts') },
  { group: 'container', name: 'diff', top: ['diff'], summary: "Inspect changes to files or directories on a container's filesystem", load: () => import('./commands/container/diff.ts') },
  { group: 'container', name: 'attach', top: ['attach'], summary: "Attach local standard input, output, and error streams to a running container", load: () => import('./commands/container/attach.ts') },
  { group: 'container', name: 'top', top: ['top'], summary: 'Display the running processes of a container', load: () => import('./commands/container/top.ts') },
  { group: 'container', name: 'stats', top: ['stats'], summary: 'Display a live stream of container(s) resource usage statistics', load: () => import('./commands/container/stats.ts') },
  { group: 'container', name: 'pause', top: ['pause'], summary: 'Pause all processes within one or more containers', load: () => import('./commands/container/pause.ts') },
  { group: 'container', name: 'unpause', top: ['unpause'], summary: 'Unpause all processes within one or more containers', load: () => import('./commands/container/unpause.ts') },
  { group: 'container', name: 'update', top: ['update'], summary: 'Update configuration of one or more containers', load: () => import('./commands/container/update.ts') },
  { group: 'container', name: 'exec', top: ['exec'], summary: 'Execute a command in a running container', load: () => import('./commands/container/exec.ts') },
  { group: 'container', name: 'cp', top: ['cp'], summary: 'Copy files/folders between a container and the local filesystem', load: () => import('./commands/container/cp.ts') },
  { group: 'container', name: 'export', top: ['export'], summary: "Export a container's filesystem as a tar archive", load: () => import('./commands/container/export.ts') },
  { group: 'container', name: 'prune', summary: 'Remove all stopped containers', load: () => import('./commands/container/prune.ts') },
  { group: 'system', name: 'df', summary: 'Show berth disk usage', load: () => import('./commands/system/df.ts') },
  { group: 'container', name: 'inspect', summary: 'Display detailed information on one or more containers', load: () => import('./commands/container/inspect.ts') },
  { group: 'image', name: 'ls', aliases: ['list'], top: ['images'], summary: 'List images', load: () => import('./commands/image/ls.ts') },
  { group: 'image', name: 'import', top: ['import'], summary: 'Import the contents from a tarball to create a filesystem image', load: () => import('./commands/image/import.ts') },
  { group: 'image', name: 'tag', top: ['tag'], summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', load: () => import('./commands/image/tag.ts') },
  { group: 'image', name: 'rm', aliases: ['remove'], top: ['rmi'], summary: 'Remove one or more images', load: () => import('./commands/image/rm.ts') },
  { group: 'image', name: 'history', top: ['history'], summary: 'Show the history of an image', load: () => import('./commands/image/history.ts') },
  { group: 'image', name: 'build', top: ['build'], summary: 'Build an image from a Dockerfile', load: () => import('./commands/image/build.ts') },
  { group: 'builder', name: 'prune', summary: 'Remove build cache', load: () => import('./commands/builder/prune.ts') },
  { group: 'image', name: 'inspect', summary: 'Display detailed information on one or more images', load: () => import('./commands/image/inspect.ts') },
  { group: 'volume', name: 'create', summary: 'Create a volume', load: () => import('./commands/volume/create.ts') },
  { group: 'volume', name: 'ls', aliases: ['list'], summary: 'List volumes', load: () => import('./commands/volume/ls.ts') },
  { group: 'volume', name: 'inspect', summary: 'Display detailed information on one or more volumes', load: () => import('./commands/volume/inspect.ts') },
  { group: 'volume', name: 'rm', aliases: ['remove'], summary: 'Remove one or more volumes', load: () => import('./commands/volume/rm.ts') },
  { group: 'volume', name: 'prune', summary: 'Remove unused local volumes', load: () => import('./commands/volume/prune.ts') },
  { group: 'network', name: 'create', summary: 'Create a network', load: () => import('./commands/network/create.ts') },
  { group: 'network', name: 'ls', aliases: ['list'], summary: 'List networks', load: () => import('./commands/network/ls.ts') },
  { group: 'network', name: 'inspect', summary: 'Display detailed information on one or more networks', load: () => import('./commands/network/inspect.ts') },
  { group: 'network', name: 'rm', aliases: ['remove'], summary: 'Remove one or more networks', load: () => import('./commands/network/rm.ts') },
  { group: 'network', name: 'prune', summary: 'Remove all unused networks', load: () => import('./commands/network/prune.ts') },
  { group: 'network', name: 'connect', summary: 'Connect a container to a network', load: () => import('./commands/network/connect.ts') },
  { group: 'network', name: 'disconnect', summary: 'Disconnect a container from a network', load: () => import('./commands/network/disconnect.ts') },
  { group: 'container', name: 'port', top: ['port'], summary: 'List port mappings or a specific mapping for the container', load: () => import('./commands/container/port.ts') },
  { group: 'image', name: 'pull', top: ['pull'], summary: 'Download an image from a registry', load: () => import('./commands/image/pull.ts') },
  { group: 'image', name: 'push', top: ['push'], summary: 'Upload an image to a registry', load: () => import('./commands/image/push.ts') },
  { group: 'image', name: 'save', top: ['save'], summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)', load: () => import('./commands/image/save.ts') },
  { group: 'image', name: 'load', top: ['load'], summary: 'Load an image from a tar archive or STDIN', load: () => import('./commands/image/load.ts') },
  { group: undefined, name: 'login', top: ['login'], summary: 'Authenticate to a registry', load: () => import('./commands/system/login.ts') },
  { group: undefined, name: 'logout', top: ['logout'], summary: 'Log out from a registry', load: () => import('./commands/system/logout.ts') },
  { group: undefined, name: 'registry', top: ['registry'], summary: 'Run an OCI distribution registry (serve, gc)', load: () => import('./commands/system/registry.ts') },
  { group: 'system', name: 'inspect', top: ['inspect'], summary: 'Return low-level information on Docker objects', load: () => import('./commands/system/inspect.ts') },
  { group: 'system', name: 'events', top: ['events'], summary: 'Get real time events from the server', load: () => import('./commands/system/events.ts') },
  { group: 'system', name: 'info', top: ['info'], summary: 'Display system-wide information', load: () => import('./commands/system/info.ts') },
  { group: undefined, name: 'version', top: ['version'], summary: 'Show the berth version information', load: () => import('./commands/system/version.ts') },
];

const GROUP_SUMMARY: Record<Group, string> = {
  container: 'Manage containers',
  image: 'Manage images',
  system: 'Manage berth',
  volume: 'Manage volumes',
  network: 'Manage networks',
  builder: 'Manage builds',
};

interface Invocation {
  entry: Entry;
  /** The words that named it: ["ps"] or ["container", "ls"]. */
  words: string[];
}

function findInvocation(args: string[]): Invocation | undefined {
  const words = commandWords(args);
  const [first, second] = words;
  if (first === undefined) return undefined;
  if (isGroup(first)) {
    const entry = ENTRIES.find((e) => e.group === first && (e.name === second || e.aliases?.includes(second ?? '')));
    return entry ? { entry, words: [first, second] } : undefined;
  }
  const entry = ENTRIES.find((e) => e.top?.includes(first));
  return entry ? { entry, words: [first] } : undefined;
}

export interface MainOptions {
  io?: CliIO;
  /** Tests inject a client factory; default builds an EngineClient. */
  makeClient?: (options: { host?: string; env: NodeJS.ProcessEnv; tls?: ClientTlsOptions }) => EngineClient;
}

/** Run the CLI with argv (without node and script); resolves with the process exit code. */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  // Getters: Node builds process.stdin/stdout/stderr on first use, and building one is start-up
  // time (stdin: fs streams and fs/promises, ~4 ms; stdout: a pipe socket, a SyncWriteStream or a
  // tty.WriteStream, 2–4 ms on the 2-core VM). Only what a command writes to or reads gets built:
  // `run --rm IMAGE true` builds none.
  const io: CliIO = options.io ?? {
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
  let clientModule: typeof import('../client/index.ts') | undefined;
  const ctx = new CliContext({
    io,
    globals: {},
    makeClient:
      options.makeClient ??
      ((o) => {
        // the client module is needed by nearly every command, but not by --help or -v
        const { EngineClient: Client } = clientModule!;
        return new Client({ host: o.host, env: o.env, tls: o.tls });
      }),
  });
  const program = new Command('berth');
  program
    .usage('[OPTIONS] COMMAND')
    .description('A self-sufficient runtime for containers')
    .enablePositionalOptions()
    .option('-H, --host <host>', 'Daemon socket to connect to')
    .option('-l, --log-level <level>', 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")', 'info')
    .option('-D, --debug', 'Enable debug mode')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlsverify', 'Use TLS and verify the remote')
    .option('--tlscacert <path>', 'Trust certs signed only by this CA (default "~/.docker/ca.pem")')
    .option('--tlscert <path>', 'Path to TLS certificate file (default "~/.docker/cert.pem")')
    .option('--tlskey <path>', 'Path to TLS key file (default "~/.docker/key.pem")')
    .option('-v, --version', 'Print version information and quit')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: () => undefined, // reported below, in docker's words
    });
  program.hook('preAction', (_root, actionCommand) => {
    const globals = program.opts<{ host?: string; logLevel?: string; tls?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string }>();
    ctx.globals.host = globals.host;
    ctx.globals.logLevel = globals.logLevel;
    if (globals.tls || globals.tlsverify) {
      ctx.globals.tls = { verify: !!globals.tlsverify, caFile: globals.tlscacert, certFile: globals.tlscert, keyFile: globals.tlskey };
    }
    void actionCommand;
  });

  const invocation = findInvocation(args);
  try {
    if (invocation) {
      const [mod, client] = await Promise.all([invocation.entry.load(), options.makeClient ? undefined : import('../client/index.ts')]);
      clientModule = client;
      ctx.commandPath = invocation.words.join(' ');
      ctx.usage = mod.command.usage;
      const parent = invocation.words.length === 2 ? program.command(invocation.words[0]).description(GROUP_SUMMARY[invocation.words[0] as Group]) : program;
      const cmd = parent.command(invocation.words[invocation.words.length - 1]).description(invocation.entry.summary);
      cmd.usage(mod.command.usage);
      mod.command.define(cmd, ctx);
    } else {
      addStubs(program);
      program.allowExcessArguments(true).action(() => {
        if (program.opts<{ version?: boolean }>().version) {
          io.stdout.write(`berth version ${ENGINE_VERSION}, build unknown\n`);
          return;
        }
        if (program.args.length > 0) {
          throw new CliError(`berth: unknown command: berth ${program.args.join(' ')}\n\nRun 'berth --help' for more information`);
        }
        program.outputHelp();
      });
    }
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return report(err, ctx);
  } finally {
    ctx.close();
  }
}

function addStubs(program: Command): void {
  const groups = new Map<Group, Command>();
  for (const entry of ENTRIES) {
    for (const top of entry.top ?? []) program.command(top).description(entry.summary);
    if (!entry.group) continue;
    let group = groups.get(entry.group);
    if (!group) {
      group = program.command(entry.group).description(GROUP_SUMMARY[entry.group]);
      groups.set(entry.group, group);
    }
    group.command(entry.name).description(entry.summary);
  }
}

async function report(err: unknown, ctx: CliContext): Promise<number> {
  const write = (s: string): void => void ctx.io.stderr.write(s);
  const usageBlock = `\n\nUsage:  berth ${ctx.commandPath} ${ctx.usage}`.trimEnd();
  const hintLine = `\n\nRun 'berth ${ctx.commandPath ? ctx.commandPath + ' ' : ''}--help' for more information`;
  if (err instanceof ExitStatus) return err.exitCode;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
    if (err.code === 'commander.unknownOption') {
      const flag = /'([^']+)'/.exec(err.message)?.[1] ?? err.message;
      write(`unknown flag: ${flag}${usageBlock}${hintLine}\n`);
      return 125;
    }
    if (err.code === 'commander.missingArgument' || err.code === 'commander.excessArguments') {
      write(`berth: '${['berth', ctx.commandPath].join(' ')}' requires ${describeArgCount(ctx.usage)}${usageBlock}${hintLine}\n`);
      return 1;
    }
    write(`${err.message.replace(/^error: /, '')}${usageBlock}${hintLine}\n`);
    return 125;
  }
  if (err instanceof CliError) {
    if (err.message) write(`${err.message}${err.usage ? usageBlock : ''}${err.hint ? hintLine : ''}\n`);
    return err.exitCode;
  }
  write(`${await describeError(err)}\n`);
  return 1;
}

/** docker's arity wording, derived from the usage line. */
function describeArgCount(usage: string): string {
  const required = usage.split(/\s+/).filter((w) => w && !w.startsWith('[') && w === w.toUpperCase() && !w.includes('OPTIONS'));
  const variadic = /\.\.\.\]?$/.test(usage.trim());
  const n = required.length;
  const noun = n === 1 ? 'argument' : 'arguments';
  return variadic ? `at least ${n} ${noun}` : `${n} ${noun}`;
}
