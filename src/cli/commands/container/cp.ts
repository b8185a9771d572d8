// berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
// berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH
import { lstat, mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ContainerPathStat } from '../../../types/docker.ts';
import { packPath, unpackInto } from '../../archive.ts';
import type { CommandModule } from '../../command.ts';
import { CliError, type CliContext } from '../../context.ts';

const DIR_BIT = 0x80000000;

interface Spec {
  container?: string;
  path: string;
}

/** `name:path` is a container path unless it looks like a local path (`./a:b`, `/a:b`). */
function splitSpec(arg: string): Spec {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

function isDir(stat: ContainerPathStat): boolean {
  return ((stat.mode >>> 0) & DIR_BIT) !== 0;
}

function lastName(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '/' : basename(p);
}

export const command: CommandModule = {
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  define(cmd: Command, ctx: CliContext): void {
    cmd
      .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
      .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
      .option('-q, --quiet', 'Suppress progress output during copy')
      .argument('<src>')
      .argument('<dest>')
      .action(async (srcArg: string, destArg: string, flags: { archive?: boolean; followLink?: boolean }) => {
        const src = splitSpec(srcArg);
        const dest = splitSpec(destArg);
        if (src.container && dest.container) throw new CliError('copying between containers is not supported');
        if (!src.container && !dest.container) throw new CliError('must specify at least one container source');
        if (src.container) await copyFrom(ctx, src.container, src.path, dest.path, !!flags.followLink);
        else await copyTo(ctx, src.path, dest.container!, dest.path, !!flags.archive);
      });
  },
};

async function copyFrom(ctx: CliContext, container: string, srcPath: string, dest: string, followLink: boolean): Promise<void> {
  const api = ctx.client().containerFiles;
  let path = srcPath;
  if (followLink) {
    const st = await api.statPath(container, path);
    if (st.linkTarget) path = st.linkTarget;
  }
  const { stat, tar } = await api.getArchive(container, path);
  if (dest === '-') {
    await pipeline(tar, ctx.io.stdout);
    return;
  }
  const target = resolve(dest);
  const local = await lstat(target).catch(() => undefined);
  const contents = srcPath.endsWith('/.');
  if (local?.isDirectory()) {
    // Into the directory, under the source's own name (or its contents for `dir/.`).
    await unpackInto(tar, target);
    return;
  }
  if (local && isDir(stat)) throw new CliError(`cannot copy a directory to a file: ${dest}`);
  if (!local && dest.endsWith('/')) throw new CliError(`destination directory ${dest} does not exist`);
  const parent = dirname(target);
  if (!(await lstat(parent).catch(() => undefined))?.isDirectory()) throw new CliError(`destination directory ${dirname(dest)} does not exist`);
  if (contents) {
    await mkdir(target, { recursive: true });
    await unpackInto(tar, target);
    return;
  }
  await unpackInto(tar, parent, { rename: { from: stat.name, to: basename(target) } });
}

async function copyTo(ctx: CliContext, src: string, container: string, destPath: string, archive: boolean): Promise<void> {
  const api = ctx.client().containerFiles;
  const opts = { noOverwriteDirNonDir: true, copyUIDGID: archive };
  if (src === '-') {
    await api.putArchive(container, destPath, ctx.io.stdin, opts);
    return;
  }
  const local = await lstat(src).catch(() => undefined);
  if (!local) throw new CliError(`lstat ${resolve(src)}: no such file or directory`);
  let destStat: ContainerPathStat | undefined;
  try {
    destStat = await api.statPath(container, destPath);
    if (destStat.linkTarget) destStat = await api.statPath(container, destStat.linkTarget).catch(() => destStat);
  } catch (err) {
    if ((err as { kind?: string }).kind !== 'NotFound') throw err;
  }
  const contents = src.endsWith('/.');
  if (destStat && isDir(destStat)) {
    const dir = destStat.linkTarget || destPath;
    await api.putArchive(container, dir, packPath(resolve(src), contents ? '.' : lastName(resolve(src))), opts);
    return;
  }
  if (!destStat && destPath.endsWith('/')) throw new CliError(`no such directory: ${destPath}`);
  if (destStat && local.isDirectory()) throw new CliError(`cannot copy a directory to a file: ${destPath}`);
  const parent = dirname(destPath.replace(/\/+$/, '')) || '/';
  await api.putArchive(container, parent, packPath(resolve(src), lastName(destPath)), opts);
}
