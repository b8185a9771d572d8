// The dependency rules of shared/DESIGN.md, checked by test/unit/architecture.test.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { path: '^src' }, to: { circular: true } },
    { name: 'types-import-nothing', severity: 'error', from: { path: '^src/types/' }, to: { path: '^src/(?!types/)' } },
    { name: 'lib-leaf', severity: 'error', from: { path: '^src/lib/' }, to: { path: '^src/(?!lib/|types/)' } },
    { name: 'api-leaf', severity: 'error', from: { path: '^src/api/' }, to: { path: '^src/(?!lib/|types/|api/)' } },
    { name: 'os-low', severity: 'error', from: { path: '^src/os/' }, to: { path: '^src/(?!os/|lib/|types/|store/snapshots/snapshotter\\.ts)' } },
    {
      name: 'backends-not-up',
      severity: 'error',
      from: { path: '^src/(store|runtime|network|volumes|registry/client|builder)/' },
      to: { path: '^src/(daemon|server|client|cli|compose|cmd)/' },
    },
    { name: 'daemon-not-server', severity: 'error', from: { path: '^src/daemon/' }, to: { path: '^src/(server|client|cli|compose|cmd)/' } },
    { name: 'server-no-backends', severity: 'error', from: { path: '^src/server/' }, to: { path: '^src/(store|runtime|os|network|volumes|registry|builder)/', pathNot: '/(types|snapshotter|store)\\.ts$' } },
    { name: 'client-lean', severity: 'error', from: { path: '^src/client/' }, to: { path: '^src/(?!client/|api/|types/|lib/)' } },
    { name: 'cli-uses-client', severity: 'error', from: { path: '^src/(cli|compose)/' }, to: { path: '^src/(?!cli/|compose/|client/|api/|types/|lib/)' } },
    {
      name: 'only-os-spawns',
      severity: 'error',
      from: { path: '^src/(?!os/)' , pathNot: '^src/cmd/' },
      to: { path: '^(node:)?child_process$', dependencyTypes: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|test)' },
  },
};
