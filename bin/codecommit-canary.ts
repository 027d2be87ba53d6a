#!/usr/bin/env node
import { main } from '../lib/cli/cli.ts';

// The SDK warns on every Node 20 run that future versions need Node 22; the CLI's stderr is for the user's problems.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
