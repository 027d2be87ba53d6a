// Bundles the CLI and the Lambda handlers with esbuild: ESM, syntax Node 20 runs, one file each. The handlers are
// built as serverless.yml's custom.esbuild builds them (infra/lambda-bundle.cjs), without its defines: the config
// comes from CANARY_CONFIG (a packaged config) and both delivery modes stay in the probe.
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';
import lambdaBundle from '../infra/lambda-bundle.cjs';

const shared = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  banner: lambdaBundle.banner,
  logLevel: 'warning',
};

await build({
  ...shared,
  sourcemap: true,
  entryPoints: { cli: 'bin/codecommit-canary.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.js' },
});
await chmod('dist/cli.js', 0o755);
await build({
  ...shared,
  // As shipped: no source map (docs/architecture.md, "The Lambda bundles"), names kept for stack traces.
  keepNames: true,
  alias: lambdaBundle.alias,
  mainFields: lambdaBundle.mainFields,
  external: lambdaBundle.external,
  plugins: lambdaBundle.plugins,
  entryPoints: { probe: 'handlers/probe.ts', notify: 'handlers/notify.ts' },
  outdir: 'dist/handlers',
  outExtension: { '.js': '.mjs' },
});
