/**
 * The import rules `npm test` checks (dependency-cruiser): no circle between modules, type-only imports
 * included; packages depend one way, bench → examples → sip → routes → core → handshake; a package reaches
 * another only through that package's index; test helpers stay out of shipped code.
 */
const pkg = (name) => `^packages/${name}/`;
const order = ['handshake', 'core', 'routes', 'sip'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import circles hide the data flow; move the shared part into a leaf (core: vocabulary.ts).',
      from: {},
      to: { circular: true },
    },
    // Each library package may import only those below it.
    ...order.map((name, i) => ({
      name: `${name}-depends-downwards`,
      severity: 'error',
      comment: `${name} may import only ${order.slice(0, i).join(', ') || 'no other package of ours'}.`,
      from: { path: pkg(name) },
      to: { path: `^(packages/(${order.slice(i + 1).concat(['bench']).join('|')})/|examples/)` },
    })),
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing: a typo, or a package not declared in package.json.',
      // A fixture that imports a missing package on purpose (the script loader's error for it is tested).
      from: { pathNot: '^packages/test-kit/fixtures/scripts/test-missing-import\\.ts$' },
      to: { couldNotResolve: true },
    },
    {
      name: 'examples-not-bench',
      severity: 'error',
      from: { path: '^examples/' },
      to: { path: `${pkg('bench')}` },
    },
    {
      name: 'shipped-code-not-test-kit',
      severity: 'error',
      comment: 'The test kit is for tests; shipped code must not need it.',
      from: { path: '^(packages/(handshake|core|routes|sip)|examples)/', pathNot: '\\.test\\.ts$' },
      to: { path: pkg('test-kit') },
    },
    {
      name: 'other-packages-through-their-index',
      severity: 'error',
      comment: 'Import another package by its name (its index, or an entry its package.json exports), not a file inside it.',
      from: { path: '^(packages/[^/]+|examples)/' },
      to: {
        path: '^(packages/[^/]+|examples)/',
        pathNot: [
          '^(packages/[^/]+|examples)/(src/|dist/)?index\\.(ts|js|d\\.ts)$',
          // core's memory reader (`@wsgate/core/process-memory`): the management API's reading, without the gateway
          '^packages/core/(src|dist)/management/process-memory\\.(ts|js|d\\.ts)$',
          // the same package: $1 is the importing package's folder
          '^$1/',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // templates/: the project `wsgate init` writes, which imports the published packages as any user's does.
    exclude: { path: '(^|/)(dist|node_modules)/|^packages/core/templates/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.imports.json' },
    combinedDependencies: false,
    preserveSymlinks: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['types', 'import', 'default'], mainFields: ['types', 'main'] },
  },
};
