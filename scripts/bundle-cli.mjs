// Bundle the berth CLI into CommonJS for bin/berth (why: src/cmd/berth-bundle.ts). Runs after tsc;
// reads the TypeScript sources. Three files: the entry (dist/berth.cjs), the client commands
// (dist/berth-cli.cjs) and the in-process registry server (dist/berth-registry.cjs, with jose and
// bcryptjs, which no client command needs). Packages with native addons stay external,
// require()d from node_modules at run time.
import { build } from 'esbuild';
import { writeFile } from 'node:fs/promises';
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
/**
 * What every `berth` command reads and compiles at start-up (dist/berth.cjs, dist/berth-cli.cjs):
 * without whitespace and comments (440 → 290 KB), and ASCII only. One non-ASCII character makes V8
 * hold the whole source as a two-byte string, which takes ~1.5 ms longer to decode from UTF-8 than
 * an ASCII one. esbuild escapes strings and identifiers but not regular expressions (`µs`), so
 * what is left is escaped here: minified output has no comments, and `\uXXXX` means the same
 * code unit in a string, template, regular expression or identifier. (No String.raw over
 * non-ASCII text in the sources.) Stack traces of the bundle point into one long line; the
 * unbundled entry, dist/cmd/berth.js, runs the same CLI with readable ones.
 */
async function buildStartupBundle(options) {
  const result = await build({ ...common, ...options, minifyWhitespace: true, write: false });
  for (const file of result.outputFiles) {
    const ascii = file.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    await writeFile(file.path, ascii);
  }
}
await Promise.all([
  buildStartupBundle({ entryPoints: ['src/cmd/berth-bundle.ts'], outfile: 'dist/berth.cjs' }),
  buildStartupBundle({ entryPoints: ['src/cmd/berth-main.ts'], outfile: 'dist/berth-cli.cjs', plugins: [registryApart, lazyChildProcess] }),
  build({ ...common, entryPoints: ['src/cmd/registry.ts'], outfile: 'dist/berth-registry.cjs' }),
]);
