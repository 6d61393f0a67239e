/**
 * The layers of the platform (docs/architecture.md), checked by `npm run lint`.
 * Entry points (gateway/, api/, web/, cli/, jobs/) call domain/; only domain/ (and the composition root)
 * reaches db/ and Kysely; domain/ never reaches back up; protocol knows nothing of the platform.
 */
const SRC = '^packages/platform/src/';
const ENTRY = `${SRC}(web|api|cli|jobs)/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle (runtime or type-only) ties modules that should be separable; break it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'entry-not-db',
      comment: 'web/, api/, cli/ and jobs/ call domain/ functions; SQL shapes belong to db/ and domain/.',
      severity: 'error',
      from: { path: ENTRY, pathNot: '\\.test\\.ts$' },
      to: { path: [`${SRC}db/`, '(^|/)node_modules/kysely/'] },
    },
    {
      name: 'requests-not-jobs',
      comment:
        'web/, api/ and gateway/ call domain/, which queues work through a service platform.ts builds from jobs/ (Services.enqueueCallback, enqueueItemRefresh).',
      severity: 'error',
      from: { path: `${SRC}(web|api|gateway)/`, pathNot: '\\.test\\.ts$' },
      to: { path: `${SRC}jobs/` },
    },
    {
      name: 'domain-not-up',
      comment: 'domain/ takes narrow deps; it does not import the composition root or the layers that call it.',
      severity: 'error',
      from: { path: `${SRC}domain/`, pathNot: '\\.test\\.ts$' },
      to: { path: `${SRC}(platform\\.ts|app\\.ts|web/|cli/|start/|gateway/|api/)` },
    },
    {
      name: 'protocol-alone',
      comment: 'The protocol package is shared with hospitals; it imports nothing of the platform or the hospital kit.',
      severity: 'error',
      from: { path: '^packages/protocol/' },
      to: { path: '^packages/(platform|hospital)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages/[^/]+|test)/dist/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    combinedDependencies: true,
  },
};
