/**
 * The architecture's one-way dependencies (../shared/ARCHITECTURE.md), checked in CI:
 * functions/ -> lib/ <- infra/ (paths only); bench/ and test/ use them, never the reverse;
 * lib/domain and lib/use-cases import no I/O;
 * channels know nothing of the store or the queue; local-only packages stay in lib/local.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'lib/domain is pure: no SDKs, no web framework, no file system, no other layers.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: {
        pathNot: [
          '^lib/domain/',
          '^node_modules/(zod|luxon|date-holidays|libphonenumber-js)/',
          '^crypto$',
          '^node:crypto$',
          // holidays.ts loads date-holidays lazily (createRequire), so bundles never carry it.
          '^module$',
          '^node:module$',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'use-cases-see-ports',
      comment: 'Use cases depend on the domain and on ports, never on adapters, channels, HTTP or SDKs.',
      severity: 'error',
      from: { path: '^lib/use-cases/' },
      to: { pathNot: ['^lib/(domain|ports|use-cases)/', '^node_modules/zod/'] },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      from: { path: '^lib/ports/' },
      to: { pathNot: ['^lib/(domain|ports)/', '^node_modules/zod/'] },
    },
    {
      name: 'channels-know-no-store',
      comment:
        'A channel verifies, parses, normalizes and sends; it knows nothing of DynamoDB, SQS or use cases.',
      severity: 'error',
      from: { path: '^lib/channels/' },
      to: { path: ['^lib/(adapters|use-cases|http|runtime|local|config)/', '^node_modules/@aws-sdk/'] },
    },
    {
      name: 'local-only-stays-local',
      comment: 'dynalite, fauxqs and the Node server are for npm start; Lambda bundles must never pull them.',
      severity: 'error',
      from: { path: '^(lib|functions)/', pathNot: '^lib/local/' },
      to: { path: ['^lib/local/', '^node_modules/(dynalite|fauxqs|@hono/node-server)/'] },
    },
    {
      name: 'infra-imports-no-runtime',
      comment:
        'infra/ only describes AWS resources; it refers to entry points by path. It may read the business config it bundles, to refuse one the functions would refuse (no promise possible, a stale holiday table), and the ack attempts the worker counts, to give the ack queue as many receives.',
      severity: 'error',
      from: { path: '^infra/' },
      to: {
        path: ['^lib/', '^functions/'],
        pathNot: ['^lib/domain/(ack-attempts|business-config|holidays|promise)\\.ts$'],
      },
    },
    {
      name: 'product-imports-no-tools',
      comment:
        'bench/ (npm run bench) and test/ use the product; the product (lib, functions, infra) never uses them, and the runtime never reads infra/.',
      severity: 'error',
      from: { path: '^(lib|functions|infra)/' },
      to: { path: ['^bench/', '^test/'] },
    },
    {
      name: 'runtime-imports-no-infra',
      severity: 'error',
      from: { path: '^(lib|functions)/' },
      to: { path: '^infra/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      // aws-lambda exists only as @types/aws-lambda (type imports).
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
