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

const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', env: { ...process.env, BERTH_TEST: '1' } });
process.exit(r.status ?? 1);
