import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireLock } from '../../../src/cmd/daemon-lock.ts';

const LOCK_MODULE = resolve(import.meta.dirname, '../../../src/cmd/daemon-lock.ts');

test('one holder per data root; the lock dies with its process, even on SIGKILL', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  const path = join(dir, 'berthd.lock');
  let holder: ReturnType<typeof spawn> | undefined;
  try {
    // Another process takes the lock (and lets go of the release function: the lock must hold
    // anyway) and is then killed -9.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { acquireLock } = await import(${JSON.stringify(LOCK_MODULE)}); acquireLock(${JSON.stringify(path)}); console.log('locked'); setInterval(() => { if (process.ppid === 1) process.exit(1); }, 500);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    holder = child;
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    assert.throws(() => acquireLock(path), new RegExp(`another berthd \\(pid ${child.pid}\\) is using this data root`));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const release = acquireLock(path);
    release();
    acquireLock(path)(); // released: can be taken again
  } finally {
    if (holder && holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
