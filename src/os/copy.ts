// Copying directory trees with everything a layer or a volume needs kept: owners, modes, times,
// xattrs, symlinks, hardlinks, devices and sparse files. coreutils' `cp -a` does all of it (with
// reflinks where the filesystem has them); a JS walk would have to reimplement each.
import { run } from './exec.ts';

/** Copy the content of `src` into the existing directory `dst`; `dst` takes `src`'s owner, mode and times. */
export async function copyTree(src: string, dst: string): Promise<void> {
  await run('cp', ['-a', '--reflink=auto', '--no-target-directory', '--', `${src}/.`, dst]);
}
