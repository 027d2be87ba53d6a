'use strict';

/**
 * How the Lambda bundles are built, one source for serverless.yml's `custom.esbuild` (serverless-esbuild, what
 * ships) and scripts/build.mjs (what the tests and benchmarks run). Measured choices, in docs/architecture.md
 * ("The Lambda bundles").
 */

const { builtinModules } = require('node:module');

/**
 * The functions use only the environment's credentials (lib/run/env-credentials.ts): the SDK's default chain (SSO,
 * INI, credential_process, web identity, metadata) is replaced, not bundled.
 */
const alias = {
  '@aws-sdk/credential-provider-node': './lib/run/env-credentials.ts',
  '@aws-sdk/credential-providers': './lib/run/env-credentials.ts',
};

/**
 * The ES module builds first: esbuild's default for Node takes `main` (the SDK's CommonJS builds), which it can
 * neither tree-shake nor evaluate lazily: a third more code and cold start.
 */
const mainFields = ['module', 'main'];

/** The SDK's browser user-agent parser, behind a dynamic import that only a browser build takes. */
const external = ['bowser'];

/** CommonJS dependencies inside an ESM bundle call require(); the bundle gets one. */
const banner = {
  js: "import { createRequire as __canaryCreateRequire } from 'node:module'; const require = __canaryCreateRequire(import.meta.url);",
};

const BUILTIN = new RegExp(`^(?:node:)?(?:${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})$`);

/**
 * Node's built-ins through require() instead of `import`: Node 24 builds an ES module namespace for a built-in by
 * reading every export, lazy ones included, so `import … from 'node:http'` loads undici (for http.WebSocket) and
 * `node:crypto` sets up WebCrypto, a fifth of the probe's cold start that nothing here uses.
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(build) {
    build.onResolve({ filter: BUILTIN }, (args) => {
      if (args.namespace === 'builtin-require') return { path: args.path, external: true };
      if (args.kind === 'dynamic-import') return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'builtin-require' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

/**
 * `@smithy/core/event-streams` replaced by lib/net/no-event-streams.ts: the SDK imports it dynamically (for event
 * stream operations, which none of the functions' calls is), and esbuild wraps a dynamically imported module and
 * everything it imports in lazy closures that it can neither tree-shake nor skip: most of `@smithy/core`.
 */
const noEventStreams = {
  name: 'no-event-streams',
  setup(build) {
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({
      path: require('node:path').join(__dirname, '../lib/net/no-event-streams.ts'),
    }));
  },
};

const plugins = [builtinsThroughRequire, noEventStreams];

/**
 * The functions' V8 heap, sized for 256 MB (serverless.yml's NODE_OPTIONS; bench/load.ts runs the monitor with it):
 * a young generation of 3 × 8 MB instead of the default that grows with the machine, and an old generation that
 * collects well before the function's memory is used up. A 1,000-target run keeps ~30 MB live; with V8's defaults
 * on a large machine its RSS reached ~230 MB, with these ~120 MB, for the same CPU.
 */
const nodeOptions = '--max-old-space-size=160 --max-semi-space-size=8';

module.exports = { alias, mainFields, external, banner, plugins, nodeOptions };
