// berth build [OPTIONS] PATH | URL | -
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { Command } from 'commander';
import { StreamError } from '../../../client/progress.ts';
import type { JSONMessage } from '../../../types/docker.ts';
import { humanSize, parseBytes } from '../../../lib/units.ts';
import { contextTar, dockerfileOnlyTar } from '../../build-context.ts';
import { collect, type CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  target?: string;
  cache: boolean;
  label?: string[];
  quiet?: boolean;
  iidfile?: string;
  network?: string;
  platform?: string;
  pull?: boolean;
  memory?: string;
  cacheFrom?: string[];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function looksLikeArchive(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return true; // zstd
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The context stream and the Dockerfile path to send (docker's rules for PATH, `-`, a tar and `-f`). */
async function prepareContext(ctx: CliContext, source: string, file: string | undefined): Promise<{ tar: Readable; dockerfile?: string }> {
  if (source === '-') {
    if (file === '-') throw new CliError('invalid argument: can\'t use stdin for both build context and dockerfile');
    const data = await readAll(ctx.io.stdin);
    if (looksLikeArchive(data)) return { tar: Readable.from([data]), dockerfile: file };
    return { tar: dockerfileOnlyTar(data) };
  }
  if (/^https?:\/\/|^git@/.test(source)) throw new CliError('berth: remote build contexts (URL, git) are not supported; pass a directory, a tar or -');
  const st = await stat(source).catch(() => undefined);
  if (!st) throw new CliError(`unable to prepare context: path "${source}" not found`);
  if (st.isFile()) {
    // A context tar on disk.
    return { tar: createReadStream(source), dockerfile: file };
  }
  const dir = resolve(source);
  if (file === '-') {
    const data = await readAll(ctx.io.stdin);
    const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
    return { tar: await contextTar(dir, { dockerfile: name, extra: [{ name, data }] }), dockerfile: name };
  }
  if (file !== undefined) {
    const abs = resolve(file);
    const rel = relative(dir, abs);
    if (rel.startsWith('..') || rel === '') {
      // A Dockerfile outside the context travels inside it under a random name, as docker does.
      const data = await readFile(abs).catch(() => {
        throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
      });
      const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
      return { tar: await contextTar(dir, { dockerfile: name, extra: [{ name, data }] }), dockerfile: name };
    }
    return { tar: await contextTar(dir, { dockerfile: rel }), dockerfile: rel };
  }
  return { tar: await contextTar(dir) };
}

function keyValues(list: string[] | undefined, env: NodeJS.ProcessEnv, what: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i === 0) throw new CliError(`invalid argument "${item}" for "--${what}" flag: invalid key`);
    if (i < 0) out[item] = what === 'build-arg' ? (env[item] ?? null) : '';
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

export const command: CommandModule = {
  usage: '[OPTIONS] PATH | URL | -',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-t, --tag <list>', 'Name and optionally a tag in the "name:tag" format', collect)
      .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
      .option('--build-arg <list>', 'Set build-time variables', collect)
      .option('--target <string>', 'Set the target build stage to build.')
      .option('--no-cache', 'Do not use cache when building the image')
      .option('--label <list>', 'Set metadata for an image', collect)
      .option('-q, --quiet', 'Suppress the build output and print image ID on success')
      .option('--iidfile <string>', 'Write the image ID to the file')
      .option('--network <string>', 'Set the networking mode for the RUN instructions during build', 'default')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .option('--pull', 'Always attempt to pull a newer version of the image')
      .option('-m, --memory <bytes>', 'Memory limit')
      .option('--cache-from <list>', 'Images to consider as cache sources', collect)
      .option('--rm', 'Remove intermediate containers after a successful build (default true)')
      .option('--force-rm', 'Always remove intermediate containers')
      .argument('<context>')
      .action(async (source: string, flags: BuildFlags) => {
        const prepared = await prepareContext(ctx, source, flags.file);
        const dockerfile = prepared.dockerfile;
        // Count what is uploaded and say it once the upload is done, as the docker CLI does.
        let sent = 0;
        const tar = prepared.tar.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              sent += chunk.length;
              cb(null, chunk);
            },
            flush(cb) {
              if (!flags.quiet) ctx.out(`Sending build context to Docker daemon  ${humanSize(sent)}\n`);
              cb();
            },
          }),
        );
        prepared.tar.once('error', (err) => tar.destroy(err));
        const buildArgs = keyValues(flags.buildArg, ctx.io.env, 'build-arg');
        // As buildx: SOURCE_DATE_EPOCH in the environment becomes a build argument.
        if (ctx.io.env.SOURCE_DATE_EPOCH !== undefined && !('SOURCE_DATE_EPOCH' in buildArgs)) buildArgs.SOURCE_DATE_EPOCH = ctx.io.env.SOURCE_DATE_EPOCH;
        const labels = Object.fromEntries(Object.entries(keyValues(flags.label, ctx.io.env, 'label')).map(([k, v]) => [k, v ?? '']));
        let id: string;
        try {
          id = await ctx.client().build.build(tar, {
            tags: flags.tag,
            dockerfile,
            buildArgs,
            labels,
            target: flags.target,
            noCache: !flags.cache,
            quiet: flags.quiet,
            pull: flags.pull,
            networkMode: flags.network,
            platform: flags.platform,
            memory: flags.memory ? parseBytes(flags.memory) : undefined,
            cacheFrom: flags.cacheFrom,
            onProgress: (m: JSONMessage) => {
              if (m.stream !== undefined) ctx.out(m.stream);
            },
          });
        } catch (err) {
          if (err instanceof StreamError) throw new CliError(err.message, { exitCode: err.code ?? 1 });
          throw err;
        }
        if (flags.iidfile) await writeFile(flags.iidfile, id);
      });
  },
};
