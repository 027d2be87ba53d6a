// Bundles the CLI and the Lambda handlers with esbuild: ESM, syntax Node 20 runs, one file each.
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

const shared = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  minify: true,
  legalComments: 'none',
  // Some dependencies still call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};

await build({
  ...shared,
  entryPoints: { cli: 'bin/codecommit-canary.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.js' },
});
await chmod('dist/cli.js', 0o755);
await build({
  ...shared,
  // The functions use only the environment's credentials (lib/run/env-credentials.ts): the SDK's default chain
  // (SSO, INI, credential_process, ...) is replaced, not bundled.
  alias: {
    '@aws-sdk/credential-provider-node': './lib/run/env-credentials.ts',
    '@aws-sdk/credential-providers': './lib/run/env-credentials.ts',
  },
  entryPoints: { probe: 'handlers/probe.ts', notify: 'handlers/notify.ts' },
  outdir: 'dist/handlers',
  outExtension: { '.js': '.mjs' },
});
