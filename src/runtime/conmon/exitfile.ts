import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Read an exit file; retries briefly when it exists but is still empty (being written).
 * Synchronous reads: conmon writes the file whole (temp + rename) into the exec root, a few bytes
 * read from the page cache, cheaper than the four thread-pool round trips of fs/promises' readFile
 * twice on every container's exit.
 */
export async function readExitFile(path: string): Promise<number | undefined> {
  for (let i = 0; i < 20; i++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const n = Number.parseInt(text.trim(), 10);
    if (Number.isFinite(n)) return n;
    await sleep(5);
  }
  return undefined;
}
