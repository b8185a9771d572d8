import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { sendFileRange } from '../../../src/registry/server/sendfile.ts';

async function collect(path: string, range?: { start: number; end: number }): Promise<Buffer> {
  const out = new PassThrough({ highWaterMark: 16 * 1024 });
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c))); // copies: the sender reuses its buffers
  await sendFileRange(out, path, range);
  out.end();
  return Buffer.concat(chunks);
}

test('sendFileRange: whole files and ranges, byte for byte, with buffers reused across requests', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sendfile-'));
  try {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const path = join(dir, 'blob');
    writeFileSync(path, data);
    for (let i = 0; i < 3; i++) assert.ok((await collect(path)).equals(data));
    assert.ok((await collect(path, { start: 1_000_000, end: 2_500_000 })).equals(data.subarray(1_000_000, 2_500_001)));
    assert.ok((await collect(path, { start: data.length - 1, end: data.length - 1 })).equals(data.subarray(-1)));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    assert.equal((await collect(empty)).length, 0);
    // a response that is gone fails the send instead of hanging
    const gone = new Writable({ write: (_c, _e, cb) => cb(new Error('socket closed')) });
    gone.on('error', () => undefined);
    await assert.rejects(sendFileRange(gone, path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
