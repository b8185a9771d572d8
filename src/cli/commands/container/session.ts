// The foreground part of `run`, `create` and `start -a`: create (pulling a missing image), then
// attach + wait registered before start, stream the output, return the container's exit code.
import { PassThrough, type Readable } from 'node:stream';
import { copyRaw, demuxTo } from '../../../client/demux.ts';
import type { WaitCondition } from '../../../client/containers.ts';
import { isKind } from '../../../lib/errors.ts';
import { DEFAULT_DETACH_KEYS, DetachKeyFilter, parseDetachKeys } from '../../../lib/detachkeys.ts';
import { enterRawMode, followTerminalSize, ttyOutput } from '../../terminal.ts';
import type { ContainerCreateResponse } from '../../../types/docker.ts';
import { CliError, describeError, type CliContext } from '../../context.ts';
import type { CreatePlan } from './create-flags.ts';

/** docker's way of reporting run/create failures: "berth: <error>" + help hint, exit 125. */
export async function runFailure(err: unknown, exitCode = 125): Promise<CliError> {
  if (err instanceof CliError) return err;
  return new CliError(`berth: ${await describeError(err)}`, { exitCode, hint: true });
}

/** Create the container; on "No such image" pull it (progress on stderr) and create again. */
export async function createWithPull(ctx: CliContext, plan: CreatePlan): Promise<ContainerCreateResponse> {
  const client = ctx.client();
  const create = (): Promise<ContainerCreateResponse> => client.containers.create(plan.body, { name: plan.name, platform: plan.platform });
  try {
    return await create();
  } catch (err) {
    if (!isKind(err, 'NotFound') || !/no such image/i.test((err as Error).message)) throw err;
  }
  // the pull path's modules load only when the image is missing (start-up time of `run`)
  const [{ encodeRegistryAuth }, { credentialsFor, registryOfImage }, { renderProgress }, { parseReference, qualifiedRepo, withDefaultTag }] = await Promise.all([
    import('../../../client/auth.ts'),
    import('../../config-file.ts'),
    import('../../progress.ts'),
    import('../../reference.ts'),
  ]);
  const image = plan.body.Image;
  ctx.err(`Unable to find image '${withDefaultTag(image)}' locally\n`);
  const ref = parseReference(image);
  const render = renderProgress(ctx.io.stderr);
  try {
    await client.images.pull(qualifiedRepo(ref.repo), {
      tag: ref.digest ? ref.digest : (ref.tag ?? 'latest'),
      platform: plan.platform,
      registryAuth: encodeRegistryAuth(credentialsFor(ctx.io.env, registryOfImage(image))),
      onProgress: render.write,
    });
  } finally {
    render.end();
  }
  return create();
}

export interface ForegroundOptions {
  id: string;
  tty: boolean;
  /** Forward our stdin (docker -i). */
  stdin: boolean;
  condition: WaitCondition;
  /** Start the container (false when it is already running, e.g. a later `attach`). */
  start: boolean;
  /** Key sequence that detaches a TTY session (docker's --detach-keys; default ctrl-p,ctrl-q). */
  detachKeys?: string;
}

/** attach → wait → start → stream; resolves with the container's StatusCode, or 'detached'. */
export async function runForeground(ctx: CliContext, options: ForegroundOptions): Promise<number | 'detached'> {
  const client = ctx.client();
  const { io } = ctx;
  const restoreTerminal = options.stdin && options.tty ? enterRawMode(io) : (): void => undefined;
  // The detach sequence is the client's job for attach (docker-api-trace §3.3): watch our stdin
  // for it and hand the rest to the daemon.
  let detach: Promise<void> = new Promise(() => undefined);
  let input: Readable | undefined = options.stdin ? (io.stdin as Readable) : undefined;
  if (input && options.tty) {
    const filter = new DetachKeyFilter(parseDetachKeys(options.detachKeys || DEFAULT_DETACH_KEYS));
    const through = new PassThrough();
    const source = input;
    detach = new Promise((resolve) => {
      source.on('data', (chunk: Buffer) => {
        const { pass, detach: done } = filter.feed(chunk);
        if (pass.length) through.write(pass);
        if (done) resolve();
      });
    });
    source.once('end', () => through.end());
    input = through;
  }
  // attach and wait are both registered before start; sent in parallel (one round trip less
  // than docker's attach → wait), each undone if the other fails
  const [attached, waiting] = await Promise.allSettled([
    client.containers.attach(options.id, { stdin: input, stdout: true, stderr: true, stream: true }),
    client.containers.beginWait(options.id, { condition: options.condition }),
  ]);
  if (attached.status === 'rejected' || waiting.status === 'rejected') {
    if (attached.status === 'fulfilled') attached.value.socket.destroy();
    if (waiting.status === 'fulfilled') waiting.value.cancel();
    restoreTerminal();
    throw attached.status === 'rejected' ? attached.reason : (waiting as PromiseRejectedResult).reason;
  }
  const { socket } = attached.value;
  const waiter = waiting.value;
  // io (not io.stdout/io.stderr): a stream is looked up, and so built, when output comes
  const output = options.tty ? copyRaw(socket as Readable, options.stdin ? ttyOutput(io) : io.stdout) : demuxTo(socket as Readable, io);
  // keep a failure of the stream from being unhandled while we start and wait
  output.catch(() => undefined);
  let unfollow = (): void => undefined;
  const forwardSignal = (signal: NodeJS.Signals): void => void client.containers.kill(options.id, { signal }).catch(() => undefined);
  try {
    if (options.start) {
      try {
        await client.containers.start(options.id);
      } catch (err) {
        socket.destroy();
        waiter.cancel();
        throw await runFailure(err, startExitCode(err));
      }
    }
    if (options.tty) unfollow = followTerminalSize(io, (size) => client.containers.resize(options.id, size));
    // docker's --sig-proxy: without a TTY, our signals go to the container
    if (!options.tty) {
      process.on('SIGINT', forwardSignal);
      process.on('SIGTERM', forwardSignal);
    }
    const status = await Promise.race([waiter.result, detach.then(() => undefined)]);
    if (!status) {
      waiter.cancel();
      return 'detached'; // the container keeps running
    }
    // the daemon closes the stream at exit; give late output a moment, never hang on it
    await Promise.race([output.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    return status.StatusCode;
  } finally {
    unfollow();
    process.off('SIGINT', forwardSignal);
    process.off('SIGTERM', forwardSignal);
    restoreTerminal();
    if (options.stdin) io.stdin.pause();
    socket.destroy();
  }
}

/** docker maps OCI runtime start failures to the shell's codes: 127 not found, 126 not executable. */
function startExitCode(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|cannot execute/i.test(message)) return 126;
  return 125;
}
