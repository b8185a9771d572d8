import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiar, familiarMatch, normalize, parseNormalizedNamed } from '../../../../src/store/images/reference.ts';

test('normalize adds the default domain, library/ and :latest', () => {
  assert.equal(normalize('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalize('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalize('user/app'), 'docker.io/user/app:latest');
  assert.equal(normalize('docker.io/library/busybox:latest'), 'docker.io/library/busybox:latest');
  assert.equal(normalize('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalize('localhost:5000/x/y:t'), 'localhost:5000/x/y:t');
  assert.equal(normalize('localhost/x'), 'localhost/x:latest');
  assert.equal(normalize('127.0.0.1:5000/test/busybox:v1'), '127.0.0.1:5000/test/busybox:v1');
  assert.equal(normalize('[::1]:5000/x'), '[::1]:5000/x:latest');
});

test('digest references keep the digest and get no default tag', () => {
  const d = 'sha256:' + 'a'.repeat(64);
  assert.equal(normalize(`busybox@${d}`), `docker.io/library/busybox@${d}`);
  assert.equal(normalize(`busybox:1@${d}`), `docker.io/library/busybox:1@${d}`);
  const r = parseNormalizedNamed(`reg.example:5000/a/b@${d}`);
  assert.deepEqual(r, { domain: 'reg.example:5000', path: 'a/b', digest: d });
});

test('invalid references give Docker texts as InvalidParameter', () => {
  assert.throws(() => normalize('Foo'), { kind: 'InvalidParameter', message: 'invalid reference format: repository name (library/Foo) must be lowercase' });
  assert.throws(() => normalize('foo/Bar:1'), { message: 'invalid reference format: repository name (foo/Bar) must be lowercase' });
  for (const bad of ['', 'busybox:', 'a b', 'busybox:tag with space', '-x', 'x//y', 'busybox@sha256:short', ':latest']) {
    assert.throws(() => normalize(bad), { kind: 'InvalidParameter', message: /^invalid reference format/ }, bad);
  }
  assert.throws(() => normalize('a'.repeat(64)), { kind: 'InvalidParameter', message: /cannot specify 64-byte hexadecimal strings/ });
  assert.throws(() => normalize('x/' + 'a'.repeat(260)), { message: /must not be more than 255 characters/ });
});

test('an uppercase first component is a domain', () => {
  assert.equal(normalize('Registry/x'), 'Registry/x:latest');
});

test('familiar strips docker.io and library/', () => {
  assert.equal(familiar('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiar('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiar('docker.io/library/a/b:1'), 'library/a/b:1');
  assert.equal(familiar('localhost:5000/x/y:t'), 'localhost:5000/x/y:t');
});

test('familiarMatch matches the familiar string or the familiar name, * stops at /', () => {
  const ref = 'docker.io/library/busybox:latest';
  assert.ok(familiarMatch('busy*', ref));
  assert.ok(familiarMatch('busybox:lat*', ref));
  assert.ok(familiarMatch('busybox', ref));
  assert.ok(!familiarMatch('busybox:1*', ref));
  assert.ok(!familiarMatch('*', 'docker.io/user/app:1'));
  assert.ok(familiarMatch('*/*', 'docker.io/user/app:1'));
  assert.ok(familiarMatch('user/ap?', 'docker.io/user/app:1'));
});
