// docker's "Are you sure you want to continue? [y/N]" prompt (prune commands).
import type { CliContext } from './context.ts';

/** Print the question, read one line from stdin and accept y/yes. */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.out(`${question}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    const done = (): void => {
      ctx.io.stdin.off('data', onData);
      ctx.io.stdin.off('end', done);
      ctx.io.stdin.pause();
      resolve(buf.split('\n')[0].trim());
    };
    ctx.io.stdin.on('data', onData);
    ctx.io.stdin.on('end', done);
  });
  return /^(y|yes)$/i.test(answer);
}
