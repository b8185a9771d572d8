// -H tcp:// with --tlsverify: the real docker CLI over mutual TLS, and refusal without a client cert.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, runCli, NODE, BERTH } from '../helpers/daemon.ts';

const d = new TestDaemon();
after(async () => {
  await d.cleanup();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCerts(dir: string): void {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=berth-test-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    writeFileSync(join(dir, `${name}.ext`), ext + '\n');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

test('the docker CLI works over mutual TLS; a client without a certificate is refused', async () => {
  makeCerts(d.dir);
  const port = await freePort();
  const tcp = `tcp://127.0.0.1:${port}`;
  await d.start({}, ['-H', tcp, '--tlsverify', '--tlscacert', join(d.dir, 'ca.pem'), '--tlscert', join(d.dir, 'server.pem'), '--tlskey', join(d.dir, 'server-key.pem')]);
  await d.importBusybox();
  const env = { ...d.env(), DOCKER_HOST: '' };
  const tlsArgs = ['--tlsverify', '--tlscacert', join(d.dir, 'ca.pem'), '--tlscert', join(d.dir, 'client.pem'), '--tlskey', join(d.dir, 'client-key.pem'), '-H', tcp];
  const v = await runCli('docker', [...tlsArgs, 'version', '--format', '{{.Server.APIVersion}}'], { env });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), '1.47');
  // Attach is hijacked over TLS too.
  const run = await runCli('docker', [...tlsArgs, 'run', '--rm', 'busybox', 'echo', 'over tls'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'over tls\n');
  // No client certificate: the handshake is refused.
  const anon = await runCli('docker', ['--tls', '--tlscacert', join(d.dir, 'ca.pem'), '-H', tcp, 'version', '--format', '{{.Server.APIVersion}}'], { env });
  assert.notEqual(anon.code, 0);
  assert.equal(anon.stdout.trim(), '');
});

test('berth speaks the same mutual TLS (flags and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH)', async () => {
  const tcp = d.logs.match(/API listening.*host="(tcp:\/\/[^"]+)"/)?.[1];
  assert.ok(tcp, 'the tcp listener is logged');
  const env = { ...d.env(), DOCKER_HOST: '', BERTH_HOST: '' };
  const flags = ['--tlsverify', '--tlscacert', join(d.dir, 'ca.pem'), '--tlscert', join(d.dir, 'client.pem'), '--tlskey', join(d.dir, 'client-key.pem'), '-H', tcp];
  const run = await runCli(NODE, [BERTH, ...flags, 'run', '--rm', 'busybox', 'echo', 'berth over tls'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'berth over tls\n');
  // docker's environment variables: a cert dir with ca.pem, cert.pem, key.pem.
  const certDir = join(d.dir, 'certs');
  mkdirSync(certDir);
  copyFileSync(join(d.dir, 'ca.pem'), join(certDir, 'ca.pem'));
  copyFileSync(join(d.dir, 'client.pem'), join(certDir, 'cert.pem'));
  copyFileSync(join(d.dir, 'client-key.pem'), join(certDir, 'key.pem'));
  const ps = await runCli(NODE, [BERTH, 'ps', '-a', '-q'], { env: { ...env, DOCKER_HOST: tcp, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir } });
  assert.equal(ps.code, 0, ps.stderr);
  // Without TLS settings the TLS port does not answer plain HTTP.
  const plain = await runCli(NODE, [BERTH, '-H', tcp, 'ps'], { env });
  assert.notEqual(plain.code, 0);
});
