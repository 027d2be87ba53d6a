'use strict';

/**
 * Lets one serverless.yml validate under both CLIs.
 *
 * Serverless Framework v4 bundles TypeScript handlers with its own esbuild unless the top-level
 * `build: { esbuild: false }` opts out, and serverless-esbuild only works after that opt-out. osls does
 * not know the `build` key and rejects it (its configValidationMode defaults to `error`). This plugin
 * declares the key for osls; under v4, where the core already defines it, it does nothing.
 */
class DeclareBuildKey {
  constructor(serverless) {
    const schemaHandler = serverless.configSchemaHandler;
    if (!schemaHandler || schemaHandler.schema?.properties?.build) return;
    try {
      schemaHandler.defineTopLevelProperty('build', {
        type: 'object',
        properties: { esbuild: { const: false } },
        additionalProperties: false,
      });
    } catch (error) {
      // SCHEMA_COLLISION: the CLI (v4) or another plugin already owns the key, with its own schema.
      if (error?.code !== 'SCHEMA_COLLISION') throw error;
    }
  }
}

module.exports = DeclareBuildKey;
