// The CLI bundle's per-command V8 code cache (src/cmd/code-cache.ts): when a cache file is written,
// used, refused and rewritten. Each load runs in a child process, as bin/berth does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { MAX_CACHE_FILES, codeCacheFile, codeCacheKey } from '../../../src/cmd/code-cache.ts';
import { ROOT } from '../../helpers/daemon.ts';

test('codeCacheKey: the command words, none for --help or odd words', () => {
  assert.equal(codeCacheKey(['run', '--rm', 'busybox', 'true']), 'run');
  assert.equal(codeCacheKey(['-H', 'unix:///x.sock', 'container', 'ls', '-a']), 'container-ls');
  assert.equal(codeCacheKey(['--log-level', 'debug', 'ps']), 'ps');
  assert.equal(codeCacheKey(['run', '--help']), undefined);
  assert.equal(codeCacheKey(['-h']), undefined);
  assert.equal(codeCacheKey(['--version']), undefined);
  assert.equal(codeCacheKey([]), undefined);
  assert.equal(codeCacheKey(['../../etc']), undefined);
  assert.equal(codeCacheKey(['Run']), undefined);
  assert.equal(codeCacheKey(['registry', 'serve']), undefined);
});

test('codeCacheFile: one file per command and bundle path', () => {
  const a = codeCacheFile('/c', 'run', '/work/a/dist/berth-cli.cjs');
  assert.match(a, /^\/c\/run-[0-9a-f]{8}\.v8$/);
  assert.equal(codeCacheFile('/c', 'run', '/work/a/dist/berth-cli.cjs'), a);
  assert.notEqual(codeCacheFile('/c', 'run', '/work/b/dist/berth-cli.cjs'), a);
  assert.notEqual(codeCacheFile('/c', 'ps', '/work/a/dist/berth-cli.cjs'), a);
});

test('a cache is written after a run that exits 0, used afterwards, and rewritten when stale or refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-codecache-'));
  try {
    const bundle = join(dir, 'bundle.cjs');
    const cacheFile = join(dir, 'cache', 'cmd.v8');
    const source = (greeting: string): string =>
      `function lazy(x) { return ${JSON.stringify(greeting)} + x; }\nmodule.exports = { greet: (x) => lazy(x), file: __filename, dir: __dirname, selfRequire: typeof require('node:path').join };\n`;
    writeFileSync(bundle, source('hello '));
    const runner = join(dir, 'runner.ts');
    writeFileSync(
      runner,
      `import { requireWithCodeCache } from ${JSON.stringify(join(ROOT, 'src/cmd/code-cache.ts'))};\n` +
        `const [file, cache, code] = process.argv.slice(2);\n` +
        `const r = requireWithCodeCache(file, cache === '-' ? undefined : cache);\n` +
        `const m = r.exports as { greet(x: string): string; file: string; dir: string; selfRequire: string };\n` +
        `console.log(JSON.stringify({ cache: r.cache, out: m.greet('world'), file: m.file, dir: m.dir, selfRequire: m.selfRequire }));\n` +
        `process.exit(Number(code));\n`,
    );
    const load = (code = 0, cache = cacheFile): { cache: string; out: string; file: string; dir: string; selfRequire: string } => {
      const r = spawnSync(process.execPath, [runner, bundle, cache, String(code)], { encoding: 'utf8' });
      assert.equal(r.status, code, r.stderr);
      return JSON.parse(r.stdout) as { cache: string; out: string; file: string; dir: string; selfRequire: string };
    };

    // a failing command writes nothing
    assert.equal(load(1).cache, 'absent');
    assert.equal(existsSync(cacheFile), false);
    // the first successful one writes it, as a private file
    const first = load();
    assert.deepEqual(first, { cache: 'absent', out: 'hello world', file: bundle, dir, selfRequire: 'function' });
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);
    const written = readFileSync(cacheFile);
    assert.match(written.subarray(0, 40).toString('latin1'), /^berth-v8-cache 1\nv24\./);
    // later runs use it and leave it alone
    assert.equal(load().cache, 'accepted');
    assert.deepEqual(readFileSync(cacheFile), written);

    // a rebuilt bundle of the same length (V8 alone would take the old cache) never gets it
    writeFileSync(bundle, source('hallo '));
    assert.deepEqual([load().cache, load().out, load().cache, load().out], ['absent', 'hallo world', 'accepted', 'hallo world']);

    // a header that fits over bytes V8 refuses: refused, then rewritten
    const good = readFileSync(cacheFile);
    const head = good.indexOf('\n', good.indexOf('\n') + 1) + 1;
    writeFileSync(cacheFile, Buffer.concat([good.subarray(0, head), Buffer.alloc(64, 7)]));
    assert.equal(load().cache, 'rejected');
    assert.equal(load().cache, 'accepted');

    // no cache file: a plain require
    assert.deepEqual(load(0, '-'), { cache: 'off', out: 'hallo world', file: bundle, dir, selfRequire: 'function' });

    // a directory others may write is neither read nor written
    const before = readFileSync(cacheFile);
    chmodSync(dirname(cacheFile), 0o777);
    try {
      assert.deepEqual([load().cache, load().cache], ['absent', 'absent']);
      assert.deepEqual(readFileSync(cacheFile), before);
    } finally {
      chmodSync(dirname(cacheFile), 0o700);
    }
    assert.equal(load().cache, 'accepted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`writing a cache file keeps only the newest ${MAX_CACHE_FILES} in the directory (removed checkouts leave theirs)`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-codecache-prune-'));
  try {
    const cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
    // MAX_CACHE_FILES + 5 files of older checkouts, each a minute older than the next
    const now = Date.now() / 1000;
    for (let i = 0; i < MAX_CACHE_FILES + 5; i++) {
      const f = join(cacheDir, `old${i}-00000000.v8`);
      writeFileSync(f, 'x');
      utimesSync(f, now - 3600 + i * 60, now - 3600 + i * 60);
    }
    writeFileSync(join(cacheDir, '.in-flight.tmp'), 'not a cache file');
    const bundle = join(dir, 'bundle.cjs');
    writeFileSync(bundle, 'module.exports = 1;\n');
    const runner = join(dir, 'runner.ts');
    writeFileSync(runner, `import { requireWithCodeCache } from ${JSON.stringify(join(ROOT, 'src/cmd/code-cache.ts'))};\nrequireWithCodeCache(process.argv[2], process.argv[3]);\n`);
    const r = spawnSync(process.execPath, [runner, bundle, join(cacheDir, 'run-11111111.v8')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const left = readdirSync(cacheDir).filter((n) => n.endsWith('.v8'));
    assert.equal(left.length, MAX_CACHE_FILES);
    assert.ok(left.includes('run-11111111.v8'), 'the new file stays');
    // the oldest six went (five over the limit, plus one for the new file)
    for (let i = 0; i < 6; i++) assert.ok(!left.includes(`old${i}-00000000.v8`), `old${i} removed`);
    assert.ok(left.includes(`old6-00000000.v8`));
    assert.ok(readdirSync(cacheDir).includes('.in-flight.tmp'), 'only cache files are pruned');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
