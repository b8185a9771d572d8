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
await Promise.all([
  build({ ...common, entryPoints: ['src/cmd/berth-bundle.ts'], outfile: 'dist/berth.cjs' }),
  build({ ...common, entryPoints: ['src/cmd/berth-main.ts'], outfile: 'dist/berth-cli.cjs', plugins: [registryApart] }),
  build({ ...common, entryPoints: ['src/cmd/registry.ts'], outfile: 'dist/berth-registry.cjs' }),
]);
