// Bundle the berth CLI into CommonJS for bin/berth (why: src/cmd/berth-bundle.ts). Runs after tsc;
// reads the TypeScript sources. Three files: the entry (dist/berth.cjs), the client commands
// (dist/berth-cli.cjs) and the in-process registry server (dist/berth-registry.cjs, with jose and
// bcryptjs, which no client command needs). Packages with native addons stay external,
// require()d from node_modules at run time.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  external: ['koffi', '@napi-rs/xattr', 'node-unix-socket'],
  logLevel: 'warning',
};
/** berth-main's `import('./registry.ts')` loads the registry bundle instead. */
const registryApart = {
  name: 'registry-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/registry\.ts$/ }, (args) =>
      args.importer.endsWith('/src/cmd/berth-main.ts') ? { path: './berth-registry.cjs', external: true } : undefined,
    );
  },
};
/**
 * commander requires node:child_process at load, for executable subcommands berth never uses;
 * loading it is ~6 ms of every command's start-up. Its copy in the bundle gets a stand-in that
 * loads the real module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
  },
};
await Promise.all([
  build({ ...common, entryPoints: ['src/cmd/berth-bundle.ts'], outfile: 'dist/berth.cjs' }),
  build({ ...common, entryPoints: ['src/cmd/berth-main.ts'], outfile: 'dist/berth-cli.cjs', plugins: [registryApart, lazyChildProcess] }),
  build({ ...common, entryPoints: ['src/cmd/registry.ts'], outfile: 'dist/berth-registry.cjs' }),
]);
