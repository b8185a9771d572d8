// Runs the whole suite with node's test runner: unit, conformance, integration, and last the
// leak check. Files run one at a time (integration tests each start a real berthd).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const groups = ['test/unit', 'test/conformance', 'test/integration'];
let files = groups.flatMap(find).filter((f) => !f.endsWith('zz-leaks.test.ts'));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
files.push('test/integration/zz-leaks.test.ts');

// The container suite runs a second time on the vfs storage driver (issue 7: every container
// flow works on both snapshotters). Network, registry and service files do not touch the
// snapshotter beyond what these cover, so they run once.
const VFS_FILES = ['docker-cli', 'berth-cli', 'client-flows', 'api-errors', 'restart-safety', 'exec', 'interactive', 'container-ops', 'cp', 'commit-diff', 'df-prune-import', 'logging', 'restart-policy', 'health', 'volumes', 'build.test'];
const vfsFiles = only.length ? [] : files.filter((f) => f.startsWith('test/integration/') && VFS_FILES.some((n) => f.includes(`/${n}`)));

const run = (list, env) => spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...list], { stdio: 'inherit', env: { ...process.env, BERTH_TEST: '1', ...env } }).status ?? 1;
const leaks = files.pop();
const main = run(files, {});
let vfs = 0;
if (vfsFiles.length) {
  console.log(`\n# the container suite again with --storage-driver vfs (${vfsFiles.length} files)`);
  vfs = run(vfsFiles, { BERTH_TEST_STORAGE_DRIVER: 'vfs' });
}
const leaked = run([leaks], {});
process.exit(main || vfs || leaked);
