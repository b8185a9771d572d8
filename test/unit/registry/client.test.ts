// Registry client helpers: challenges, X-Registry-Auth, insecure hosts, endpoints, scopes, platforms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegistryAuth, parseChallenge } from '../../../src/registry/client/auth.ts';
import { endpointsFor, isInsecure, isLoopback } from '../../../src/registry/client/hosts.ts';
import { covers, parseScope } from '../../../src/registry/server/auth.ts';
import { parsePlatform, platformMatches } from '../../../src/registry/manifest.ts';
import { remoteRef } from '../../../src/daemon/images/registry-ref.ts';
import { registryDomain } from '../../../src/daemon/images/login.ts';
import { encodeRegistryAuth } from '../../../src/client/auth.ts';
import { registryKey, registryOfImage } from '../../../src/cli/config-file.ts';

const cfg = { mirrors: [], insecure: ['10.1.0.0/16', 'myreg:5000'], certsDir: '/nonexistent' };

test('WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});

test('X-Registry-Auth round trip; {} means anonymous', () => {
  const enc = encodeRegistryAuth({ username: 'u', password: 'p?>', serveraddress: 'h:5000' });
  assert.doesNotMatch(enc, /[+/]/);
  assert.deepEqual(decodeRegistryAuth(enc), { username: 'u', password: 'p?>', serveraddress: 'h:5000' });
  assert.equal(decodeRegistryAuth('e30='), undefined);
  assert.equal(decodeRegistryAuth('garbage!'), undefined);
  assert.equal(encodeRegistryAuth(undefined), 'e30=');
});

test('loopback is always insecure; listed hosts and CIDRs too', () => {
  for (const h of ['127.0.0.1:5000', 'localhost:5000', '127.9.9.9', '[::1]:5000', 'localhost']) assert.ok(isLoopback(h) && isInsecure(cfg, h), h);
  assert.ok(isInsecure(cfg, '10.1.2.3:5000'));
  assert.ok(isInsecure(cfg, 'myreg:5000'));
  assert.ok(!isInsecure(cfg, 'myreg:6000'));
  assert.ok(!isInsecure(cfg, 'registry.example.com'));
});

test('docker.io is never contacted: mirrors only, else a clear error', () => {
  assert.throws(() => endpointsFor(cfg, 'docker.io', 'pull'), /registry mirror/);
  assert.throws(() => endpointsFor({ ...cfg, mirrors: ['http://127.0.0.1:5000'] }, 'docker.io', 'push'), /docker\.io/);
  assert.deepEqual(endpointsFor({ ...cfg, mirrors: ['http://127.0.0.1:5000'] }, 'docker.io', 'pull'), [{ host: '127.0.0.1:5000', scheme: 'http', insecure: true, mirror: true }]);
  assert.deepEqual(endpointsFor(cfg, '127.0.0.1:5000', 'push'), [{ host: '127.0.0.1:5000', scheme: undefined, insecure: true, mirror: false }]);
  assert.deepEqual(endpointsFor(cfg, 'registry.example.com', 'pull'), [{ host: 'registry.example.com', scheme: 'https', insecure: false, mirror: false }]);
});

test('scopes and grants', () => {
  assert.deepEqual(parseScope('repository:host:5000/a/b:pull,push'), { type: 'repository', name: 'host:5000/a/b', actions: ['pull', 'push'] });
  const granted = [{ type: 'repository', name: 'a', actions: ['pull'] }];
  assert.ok(covers(granted, { type: 'repository', name: 'a', actions: ['pull'] }));
  assert.ok(!covers(granted, { type: 'repository', name: 'a', actions: ['pull', 'push'] }));
  assert.ok(covers([{ type: 'repository', name: 'a', actions: ['*'] }], { type: 'repository', name: 'a', actions: ['delete'] }));
});

test('references for pull: default tag, digests in tag=, docker.io names', () => {
  assert.deepEqual(remoteRef('busybox'), { ref: { domain: 'docker.io', path: 'library/busybox', tag: 'latest' }, repo: 'library/busybox', target: 'latest' });
  const d = 'sha256:' + 'a'.repeat(64);
  assert.equal(remoteRef('127.0.0.1:5000/x/y', d).target, d);
  assert.equal(remoteRef(`127.0.0.1:5000/x/y@${d}`).ref.tag, undefined);
  assert.throws(() => remoteRef('x', 'bad tag!'), /invalid reference format/);
  assert.equal(registryDomain('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(registryDomain('127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(registryKey(undefined), 'https://index.docker.io/v1/');
  assert.equal(registryOfImage('busybox:1'), 'https://index.docker.io/v1/');
  assert.equal(registryOfImage('127.0.0.1:5000/a/b@' + d), '127.0.0.1:5000');
});

test('platforms', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.throws(() => parsePlatform('linux'));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  assert.ok(!platformMatches(undefined, { os: 'linux', architecture: 'amd64' }));
});
