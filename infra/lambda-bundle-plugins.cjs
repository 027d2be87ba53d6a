'use strict';

// serverless-esbuild takes its plugins as a file exporting them (custom.esbuild.plugins in serverless.yml).
module.exports = require('./lambda-bundle.cjs').plugins;
