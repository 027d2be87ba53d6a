/**
 * Bad config, in its own file so code that only reports it (the steps, the Lambdas' packaged-config check) does
 * not load the schema and its validator.
 */

/** Bad config: every problem, one line each, naming the field path. The CLI exits 2 on it. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid config\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
