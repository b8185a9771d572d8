// Registry auth end to end: berthd (driven by the real docker CLI and berth) against
// `berth registry serve --htpasswd` (Basic) and `--issue-tokens` (Docker's token flow).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { useDaemon, docker, berth, runCli, NODE, BERTH } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';
import { runInPty } from '../helpers/pty.ts';

const daemon = useDaemon();
const basicReg = new TestRegistry();
const tokenReg = new TestRegistry();

before(async () => {
  const htpasswd = join(basicReg.dir, 'htpasswd');
  writeFileSync(htpasswd, `alice:${bcrypt.hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
  await basicReg.start(['--htpasswd', htpasswd]);
  await tokenReg.start(['--htpasswd', htpasswd, '--issue-tokens']);
});
after(async () => {
  await basicReg.cleanup();
  await tokenReg.cleanup();
});

test('anonymous pull from an htpasswd registry: 401 with a WWW-Authenticate challenge, and a clean docker error', async () => {
  const r = await fetch(`${basicReg.url}/v2/x/manifests/latest`);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  const pull = await docker(daemon(), ['pull', `${basicReg.host}/x:latest`]);
  assert.equal(pull.code, 1);
  assert.match(pull.stderr, /pull access denied for .*\/x, repository does not exist or may require 'docker login'/);
  const push = await docker(daemon(), ['tag', 'busybox', `${basicReg.host}/x:latest`]);
  assert.equal(push.code, 0);
  const p = await docker(daemon(), ['push', `${basicReg.host}/x:latest`]);
  assert.equal(p.code, 1);
  assert.match(p.stderr, /401|unauthorized|authentication required/i);
});

for (const kind of ['basic', 'token'] as const) {
  test(`docker login (${kind}): wrong credentials fail cleanly, right ones allow push and pull`, async () => {
    const reg = kind === 'basic' ? basicReg : tokenReg;
    const configFile = join(daemon().dockerConfig, 'config.json');
    const bad = await docker(daemon(), ['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n' });
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /401|unauthorized/i);
    assert.ok(!existsSync(configFile) || !readFileSync(configFile, 'utf8').includes(reg.host), 'no credentials stored');

    const good = await docker(daemon(), ['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret\n' });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /Login Succeeded/);
    const name = `${reg.host}/team/app:v1`;
    assert.equal((await docker(daemon(), ['tag', 'busybox', name])).code, 0);
    const push = await docker(daemon(), ['push', name], { timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr + daemon().logs.slice(-2000));
    assert.match(push.stdout, /v1: digest: sha256:/);
    assert.equal((await docker(daemon(), ['rmi', name])).code, 0);
    const pull = await docker(daemon(), ['pull', name], { timeoutMs: 60_000 });
    assert.equal(pull.code, 0, pull.stderr);
    const logout = await docker(daemon(), ['logout', reg.host]);
    assert.equal(logout.code, 0);
    assert.equal((await docker(daemon(), ['rmi', name])).code, 0);
    const denied = await docker(daemon(), ['pull', name]);
    assert.equal(denied.code, 1, 'logged out: pull is refused again');
  });
}

test('berth login/logout keep a docker-compatible config.json in DOCKER_CONFIG; berth push/pull use it', async () => {
  const env = daemon().env();
  const bad = await runCli(NODE, [BERTH, 'login', '-u', 'alice', '--password-stdin', tokenReg.host], { env, input: 'wrong\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error response from daemon: .*401/);
  const good = await berth(daemon(), ['login', '-u', 'alice', '--password-stdin', tokenReg.host], { input: 's3cret\n' });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /Login Succeeded/);
  const cfg = JSON.parse(readFileSync(join(daemon().dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(Buffer.from(cfg.auths[tokenReg.host].auth, 'base64').toString(), 'alice:s3cret');
  const name = `${tokenReg.host}/berth/app:v2`;
  assert.equal((await berth(daemon(), ['tag', 'busybox', name])).code, 0);
  const push = await berth(daemon(), ['push', name]);
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await berth(daemon(), ['rmi', name])).code, 0);
  const pull = await berth(daemon(), ['pull', name]);
  assert.equal(pull.code, 0, pull.stderr);
  // the docker CLI reads the same file
  const dpull = await docker(daemon(), ['pull', name]);
  assert.equal(dpull.code, 0, dpull.stderr);
  const out = await berth(daemon(), ['logout', tokenReg.host]);
  assert.equal(out.stdout, `Removing login credentials for ${tokenReg.host}\n`);
  assert.equal((await berth(daemon(), ['logout', tokenReg.host])).stdout, `Not logged in to ${tokenReg.host}\n`);
});

test('berth login on a terminal prompts for the username and (unechoed) password', async () => {
  const r = await runInPty(
    [NODE, BERTH, 'login', basicReg.host],
    [24, 80],
    [{ waitfor: 'Username: ' }, { write: 'alice\r' }, { waitfor: 'Password: ' }, { write: 's3cret\r' }, { waitfor: 'Login Succeeded' }],
    daemon().env(),
  );
  assert.equal(r.exit, 0, r.output);
  assert.doesNotMatch(r.output, /s3cret/, 'the password is not echoed');
  const cfg = JSON.parse(readFileSync(join(daemon().dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(Buffer.from(cfg.auths[basicReg.host].auth, 'base64').toString(), 'alice:s3cret');
});
