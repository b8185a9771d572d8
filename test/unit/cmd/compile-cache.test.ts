import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliCodeCacheDir, compileCacheDir } from '../../../src/cmd/compile-cache.ts';

test('compile cache: root under /var/cache/berth, users in their XDG cache, never the shared /tmp', () => {
  assert.equal(compileCacheDir({ HOME: '/root' }, 0), '/var/cache/berth/node-compile-cache');
  assert.equal(compileCacheDir({ HOME: '/home/u' }, 1000), '/home/u/.cache/berth/node-compile-cache');
  assert.equal(compileCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, 1000), '/xdg/berth/node-compile-cache');
  // no home: no cache rather than Node's default in os.tmpdir()
  assert.equal(compileCacheDir({}, 1000), undefined);
  // Node's own switches win
  assert.equal(compileCacheDir({ NODE_COMPILE_CACHE: '/c' }, 0), undefined);
  assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' }, 0), undefined);
});

test('the CLI code cache sits beside it, under the same rules', () => {
  assert.equal(cliCodeCacheDir({ HOME: '/root' }, 0), '/var/cache/berth/cli-code-cache');
  assert.equal(cliCodeCacheDir({ HOME: '/home/u' }, 1000), '/home/u/.cache/berth/cli-code-cache');
  assert.equal(cliCodeCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, 1000), '/xdg/berth/cli-code-cache');
  assert.equal(cliCodeCacheDir({}, 1000), undefined);
  assert.equal(cliCodeCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' }, 0), undefined);
});
