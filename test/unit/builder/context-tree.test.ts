// The in-memory build context (builder/context/tree.ts) against the unpacked one (extract.ts): the
// same names, types, modes and checksums, the same refusals, and a written-out tree identical to an
// unpacked one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ContextTree, type ContextScratch } from '../../../src/builder/context/tree.ts';
import { applyIgnore, extractContext } from '../../helpers/extract-context.ts';
import { DirView, type TreeView } from '../../../src/builder/fs.ts';
import { dockerignoreMatcher } from '../../../src/lib/dockerignore.ts';

type Entry = { header: Partial<tar.Header> & { name: string }; body?: Buffer | string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry(e.header, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The body as an HTTP request delivers it: chunks of a few kB. */
function chunked(buf: Buffer, size = 16 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) parts.push(buf.subarray(o, o + size));
  return Readable.from(parts);
}

function scratchIn(base: string): ContextScratch & { made: boolean } {
  const path = join(base, `build-${randomBytes(4).toString('hex')}`);
  const s = {
    path,
    made: false,
    async make(): Promise<void> {
      if (s.made) return;
      mkdirSync(path, { mode: 0o700 });
      s.made = true;
    },
  };
  return s;
}

/** Every path of a view with what the builder reads from it (not mtimes: they are not in the checksums). */
async function describe(v: TreeView, parts: string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const name of await v.readdir(parts)) {
    const p = [...parts, name];
    const e = (await v.lstat(p))!;
    // The unpacking records no digest for a hardlink: the checksum then reads the file.
    const digest = e.digest ?? (e.type === 'file' ? 'sha256:' + createHash('sha256').update(readFileSync(e.hostPath)).digest('hex') : '');
    out.push(`${p.join('/')} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.type === 'file' ? `${e.size} ${digest}` : ''}${e.linkname ?? ''}`);
    if (e.type === 'dir') out.push(...(await describe(v, p)));
  }
  return out;
}

/** An unpacked directory as text (host state), digests computed here. */
function describeDir(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`, ...describeDir(root, r));
    else if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(join(root, r))}`);
    else out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${readFileSync(join(root, r)).toString('base64').slice(0, 40)} ${st.size}`);
  }
  return out;
}

const SAMPLE: Entry[] = [
  { header: { name: 'Dockerfile', mode: 0o644 }, body: 'FROM busybox\n' },
  { header: { name: 'bin/', type: 'directory', mode: 0o750 } },
  { header: { name: 'bin/tool', mode: 0o4755 }, body: 'tool' },
  { header: { name: 'implied/deep/file.txt', mode: 0o600 }, body: 'deep' },
  { header: { name: 'abs', type: 'symlink', linkname: '/bin' } },
  { header: { name: 'abs/through-link', mode: 0o644 }, body: 'lands in bin/' },
  { header: { name: 'hard', type: 'link', linkname: 'bin/tool' } },
  { header: { name: 'replaced', mode: 0o644 }, body: 'first' },
  { header: { name: 'replaced', type: 'directory', mode: 0o755 } },
  { header: { name: 'replaced/x', mode: 0o644 }, body: 'x' },
  { header: { name: 'dir-then-file/', type: 'directory' } },
  { header: { name: 'dir-then-file/child' }, body: 'gone' },
  { header: { name: 'dir-then-file', mode: 0o640 }, body: 'now a file' },
  { header: { name: 'logs/a.log' }, body: 'a' },
  { header: { name: 'logs/keep.log' }, body: 'k' },
  { header: { name: 'empty' }, body: '' },
  { header: { name: './' , type: 'directory' } },
];

test('ContextTree gives the view an unpacked context gives, and writes out the same files', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  try {
    const body = await tarOf(SAMPLE);
    const ignore = dockerignoreMatcher(['logs', '!logs/keep.log'], ['Dockerfile']);
    const unpacked = join(base, 'unpacked');
    mkdirSync(unpacked, { mode: 0o755 });
    const { digests } = await extractContext(chunked(body), unpacked);
    await applyIgnore(unpacked, ignore);

    const scratch = scratchIn(base);
    const ctx = await ContextTree.receive(chunked(body), scratch);
    try {
      ctx.applyIgnore(ignore);
      assert.equal(scratch.made, false, 'a context that fits in memory writes nothing');
      assert.deepEqual(await describe(ctx), await describe(new DirView(unpacked, digests)));
      assert.equal((await ctx.readFile(['Dockerfile']))?.toString(), 'FROM busybox\n');
      assert.equal(await ctx.readFile(['abs']), undefined, 'a symlink is not read as a file');
      const dir = await ctx.dir();
      assert.equal(await ctx.dir(), dir, 'written out once');
      assert.deepEqual(describeDir(dir), describeDir(unpacked));
      assert.equal(readFileSync((await ctx.lstat(['bin', 'through-link']))!.hostPath, 'utf8'), 'lands in bin/');
    } finally {
      await ctx.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ContextTree refuses what extraction refuses: `..`, a hardlink to nothing, a path through a file, not a tar', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  try {
    const cases: Array<[Entry[] | Buffer, RegExp]> = [
      [[{ header: { name: 'Dockerfile' }, body: 'x' }, { header: { name: '../../etc/passwd' }, body: 'x' }], /escapes the root/],
      [[{ header: { name: 'l', type: 'link', linkname: 'missing' } }], /invalid hardlink/],
      [[{ header: { name: 'l', type: 'link', linkname: '../../etc/shadow' } }], /escapes the root/],
      [[{ header: { name: 'f' }, body: 'x' }, { header: { name: 'f/g' }, body: 'y' }], /not a directory/],
      [Buffer.from('this is not a tar archive at all, but it is long enough to be read as a header '.repeat(10)), /not a valid tar archive/],
    ];
    for (const [entries, re] of cases) {
      const body = Buffer.isBuffer(entries) ? entries : await tarOf(entries);
      const scratch = scratchIn(base);
      await assert.rejects(ContextTree.receive(chunked(body), scratch), re);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ContextTree: gzip contexts; contents beyond the memory pool and a concurrent context spill to a file', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  try {
    const big = randomBytes(9 << 20);
    const small = randomBytes(1000);
    const body = gzipSync(await tarOf([{ header: { name: 'small' }, body: small }, { header: { name: 'big' }, body: big }, { header: { name: 'after' }, body: 'after' }]));
    const s1 = scratchIn(base);
    const first = await ContextTree.receive(chunked(body), s1);
    // The pool is taken by `first`: this one spills everything.
    const s2 = scratchIn(base);
    const second = await ContextTree.receive(chunked(await tarOf([{ header: { name: 'f' }, body: 'concurrent' }])), s2);
    try {
      assert.equal(s1.made, true, 'the big file went to the spill file');
      assert.deepEqual(await first.readFile(['small']), small);
      assert.deepEqual(await first.readFile(['big']), big);
      assert.equal((await first.readFile(['after']))?.toString(), 'after');
      const dir = await first.dir();
      assert.deepEqual(readFileSync(join(dir, 'big')), big);
      assert.equal(s2.made, true);
      assert.equal((await second.readFile(['f']))?.toString(), 'concurrent');
    } finally {
      await first.close();
      await second.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ContextTree: a file equal to the previous build\'s reuses its digest; a changed byte anywhere is hashed', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
  try {
    const a = randomBytes(300 * 1024);
    const variants = [a, Buffer.from(a), Buffer.concat([a.subarray(0, 150_000), Buffer.from([a[150_000] ^ 1]), a.subarray(150_001)]), Buffer.concat([a.subarray(0, a.length - 1), Buffer.from([a[a.length - 1] ^ 1])]), Buffer.from(a)];
    for (const v of variants) {
      const other = randomBytes(100);
      const ctx = await ContextTree.receive(chunked(await tarOf([{ header: { name: 'f' }, body: v }, { header: { name: 'g' }, body: other }]), 7000), scratchIn(base));
      try {
        assert.equal((await ctx.lstat(['f']))?.digest, sha(v));
        assert.equal((await ctx.lstat(['g']))?.digest, sha(other));
        assert.deepEqual(await ctx.readFile(['f']), v);
      } finally {
        await ctx.close();
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ContextTree: a body that stops without an end (client gone) fails the receive and frees the pool', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  try {
    const body = await tarOf([{ header: { name: 'f' }, body: randomBytes(200_000) }]);
    const src = new Readable({ read() {} });
    src.push(body.subarray(0, 70_000));
    setTimeout(() => src.destroy(), 20);
    await assert.rejects(ContextTree.receive(src, scratchIn(base)), /not a valid tar archive|closed|aborted/);
    // The pool is free again: the next context fits in memory.
    const s = scratchIn(base);
    const next = await ContextTree.receive(chunked(body), s);
    assert.equal(s.made, false);
    await next.close();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ContextTree: a tar that stops right after the last file (no padding, no end blocks: `docker build -f -`) is read; one cut inside a file or a header is not', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-ctxtree-'));
  try {
    const full = await tarOf([{ header: { name: 'a' }, body: 'x'.repeat(600) }, { header: { name: '.dockerignore' }, body: 'Dockerfile\n' }]);
    // header a (512) + 600 bytes + 424 padding + header (512) + 11 bytes: cut there.
    const cut = full.subarray(0, 512 + 1024 + 512 + 11);
    const ctx = await ContextTree.receive(chunked(cut, 100), scratchIn(base));
    assert.equal((await ctx.readFile(['.dockerignore']))?.toString(), 'Dockerfile\n');
    assert.equal((await ctx.readFile(['a']))?.length, 600);
    await ctx.close();
    const gz = await ContextTree.receive(chunked(gzipSync(cut)), scratchIn(base));
    assert.equal((await gz.readFile(['.dockerignore']))?.toString(), 'Dockerfile\n');
    await gz.close();
    for (const n of [512 + 1024 + 512 + 10, 512 + 300, 512 + 1024 + 100]) {
      await assert.rejects(ContextTree.receive(chunked(full.subarray(0, n), 100), scratchIn(base)), /not a valid tar archive/, `cut at ${n}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
