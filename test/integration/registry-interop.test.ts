// Interoperability on loopback: independent clients (skopeo, podman) against `berth registry
// serve`, and berthd against the reference server (Debian's docker-registry, CNCF distribution 2.8).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDaemon, docker, berth, runCli, leakedMounts } from '../helpers/daemon.ts';
import { TestRegistry } from '../helpers/registry.ts';

const daemon = useDaemon();
const registry = new TestRegistry();
const work = mkdtempSync(join(tmpdir(), 'berth-interop-'));
let archive = '';
let imageId = '';

const policy = join(work, 'policy.json');
const authFile = join(work, 'auth.json');
const toolEnv = (): NodeJS.ProcessEnv => ({ ...process.env, REGISTRY_AUTH_FILE: authFile, TMPDIR: work, HOME: work, XDG_RUNTIME_DIR: join(work, 'xdg') });

// node:test may run file-level before hooks concurrently: set up once the daemon is there.
let setup: Promise<void> | undefined;
const ready = (): Promise<void> => (setup ??= prepare());
async function prepare(): Promise<void> {
  await registry.start();
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  writeFileSync(authFile, '{}');
  mkdirSync(join(work, 'xdg'), { mode: 0o700 });
  archive = join(work, 'busybox.tar');
  const s = await berth(daemon(), ['save', '-o', archive, 'busybox']);
  assert.equal(s.code, 0, s.stderr);
  imageId = (await docker(daemon(), ['image', 'inspect', '--format', '{{.Id}}', 'busybox'])).stdout.trim();
}
after(async () => {
  await registry.cleanup();
  for (const m of leakedMounts(work)) await runCli('umount', ['-l', m], { env: process.env });
  rmSync(work, { recursive: true, force: true });
});

async function registryDigest(url: string, repo: string, ref: string): Promise<string> {
  const r = await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
  });
  assert.equal(r.status, 200, `${repo}:${ref}`);
  return r.headers.get('docker-content-digest') ?? '';
}

function skopeo(args: string[]): ReturnType<typeof runCli> {
  return runCli('skopeo', ['--policy', policy, ...args], { env: toolEnv(), timeoutMs: 120_000 });
}

test('skopeo copies a docker-archive into berth registry and back out to an OCI layout; digests match', async () => {
  await ready();
  const dest = `docker://${registry.host}/skopeo/busybox:v1`;
  const cp = await skopeo(['copy', '--format', 'oci', '--dest-tls-verify=false', `docker-archive:${archive}`, dest]);
  assert.equal(cp.code, 0, cp.stderr + registry.logs.slice(-2000));
  const digest = await registryDigest(registry.url, 'skopeo/busybox', 'v1');
  const insp = await skopeo(['inspect', '--tls-verify=false', '--format', '{{.Digest}}', dest]);
  assert.equal(insp.code, 0, insp.stderr);
  assert.equal(insp.stdout.trim(), digest, 'skopeo sees the digest the registry reports');
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', dest]);
  const manifest = JSON.parse(raw.stdout) as { config: { digest: string } };
  const config = (await (await fetch(`${registry.url}/v2/skopeo/busybox/blobs/${manifest.config.digest}`)).json()) as { rootfs: { diff_ids: string[] } };
  const layers = (await docker(daemon(), ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', imageId])).stdout.trim();
  assert.equal(JSON.stringify(config.rootfs.diff_ids), layers, 'the layers survived the copy');

  const layout = join(work, 'oci-out');
  const out = await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', dest, `oci:${layout}:v1`]);
  assert.equal(out.code, 0, out.stderr);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  assert.equal(index.manifests[0].digest, digest, 'the OCI layout holds the same manifest');
  for (const f of readdirSync(join(layout, 'blobs', 'sha256'))) assert.match(f, /^[a-f0-9]{64}$/);

  // berthd pulls what skopeo pushed, and runs it
  const pull = await docker(daemon(), ['pull', `${registry.host}/skopeo/busybox:v1`]);
  assert.equal(pull.code, 0, pull.stderr);
  const run = await docker(daemon(), ['run', '--rm', `${registry.host}/skopeo/busybox:v1`, 'echo', 'via skopeo']);
  assert.equal(run.stdout, 'via skopeo\n', run.stderr);
});

test('podman (private root) pushes to and pulls from berth registry; digests match', async () => {
  await ready();
  const root = join(work, 'podman-root');
  const runroot = join(work, 'podman-run');
  const podman = (args: string[]): ReturnType<typeof runCli> =>
    runCli('podman', ['--root', root, '--runroot', runroot, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], { env: toolEnv(), timeoutMs: 120_000 });
  try {
    const load = await podman(['load', '-i', archive]);
    assert.equal(load.code, 0, load.stderr);
    const digestFile = join(work, 'podman.digest');
    const ref = `${registry.host}/podman/busybox:v1`;
    const push = await podman(['push', '--tls-verify=false', '--digestfile', digestFile, 'docker.io/library/busybox:latest', `docker://${ref}`]);
    assert.equal(push.code, 0, push.stderr + registry.logs.slice(-2000));
    const digest = await registryDigest(registry.url, 'podman/busybox', 'v1');
    assert.equal(readFileSync(digestFile, 'utf8').trim(), digest, 'podman pushed what the registry stores');

    const pull = await podman(['pull', '--tls-verify=false', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const listed = await podman(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
    assert.ok((JSON.parse(listed.stdout) as string[]).includes(`${registry.host}/podman/busybox@${digest}`), listed.stdout);

    // berthd reads podman's push (Docker schema2, gzip layers) too
    const bpull = await docker(daemon(), ['pull', ref]);
    assert.equal(bpull.code, 0, bpull.stderr);
    const run = await docker(daemon(), ['run', '--rm', ref, 'echo', 'via podman']);
    assert.equal(run.stdout, 'via podman\n', run.stderr);
  } finally {
    await podman(['rmi', '-a', '-f']);
    assert.deepEqual(leakedMounts(root), [], 'podman left no mounts');
    const ps = await runCli('pgrep', ['-f', root], { env: process.env });
    assert.equal(ps.stdout.trim(), '', 'podman left no processes');
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('berthd pushes to and pulls from Debian docker-registry (distribution 2.8) on loopback', async () => {
  await ready();
  const dir = join(work, 'distribution');
  mkdirSync(dir);
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  let proc: ChildProcess | undefined;
  let logs = '';
  try {
    proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/v2/`)).status === 200) break;
      } catch {
        /* not yet */
      }
      if (i > 150 || proc.exitCode !== null) throw new Error(`docker-registry did not start:\n${logs}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const host = `127.0.0.1:${port}`;
    const name = `${host}/dist/busybox:v1`;
    assert.equal((await docker(daemon(), ['tag', 'busybox', name])).code, 0);
    const push = await docker(daemon(), ['push', name], { timeoutMs: 60_000 });
    assert.equal(push.code, 0, push.stderr + logs);
    const digest = /v1: digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
    assert.equal(digest, await registryDigest(url, 'dist/busybox', 'v1'));
    // mount from another repository of the same registry the image came from
    const name2 = `${host}/dist/copy:v1`;
    assert.equal((await docker(daemon(), ['tag', name, name2])).code, 0);
    const push2 = await docker(daemon(), ['push', name2]);
    assert.equal(push2.code, 0, push2.stderr);
    assert.match(push2.stdout, /: Mounted from dist\/busybox/);

    assert.equal((await docker(daemon(), ['rmi', name, name2])).code, 0);
    const pull = await docker(daemon(), ['pull', `${host}/dist/busybox@${digest}`], { timeoutMs: 60_000 });
    assert.equal(pull.code, 0, pull.stderr + logs);
    const pullTag = await docker(daemon(), ['pull', name]);
    assert.equal(pullTag.code, 0, pullTag.stderr);
    const run = await docker(daemon(), ['run', '--rm', name, 'echo', 'via distribution']);
    assert.equal(run.stdout, 'via distribution\n', run.stderr);
  } finally {
    if (proc && proc.exitCode === null) {
      await new Promise<void>((resolve) => {
        proc!.once('exit', () => resolve());
        proc!.kill('SIGTERM');
      });
    }
  }
});
