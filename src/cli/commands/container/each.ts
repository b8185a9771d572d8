// docker's pattern for commands over several containers: act on each in turn, print the name as
// given on success, print each failure on stderr, exit 1 at the end if any failed.
import { ExitStatus, describeError, type CliContext } from '../../context.ts';

export async function forEachContainer(
  ctx: CliContext,
  names: string[],
  action: (name: string) => Promise<string | undefined | void>,
  options: { tolerate?: (err: unknown) => boolean } = {},
): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      const printed = await action(name);
      ctx.out(`${printed ?? name}\n`);
    } catch (err) {
      ctx.err(`${await describeError(err)}\n`);
      if (!options.tolerate?.(err)) failed = true;
    }
  }
  if (failed) throw new ExitStatus(1);
}
